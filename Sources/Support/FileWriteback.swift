import Foundation

/// `sync_file_range` (Linux): writes a range of a file's dirty pages to disk and waits for them,
/// without the metadata flush of `fsync`. Used to push a growing file to disk in steps instead
/// of leaving it all to one flush at the end. Swift's Glibc module does not export it (it is
/// declared only with _GNU_SOURCE), so it is looked up once at run time. Blocking.
package enum FileWriteback {
    private typealias Function = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    private static let waitBefore: UInt32 = 1, write: UInt32 = 2, waitAfter: UInt32 = 4

    private static let function: Function? = {
        guard let symbol = dlsym(nil, "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }()

    /// Writes `count` bytes from `offset` to disk and waits; false when unavailable or refused
    /// (the caller's final `fsync` still makes the file durable).
    @discardableResult
    package static func flush(_ descriptor: Int32, offset: Int64, count: Int64) -> Bool {
        guard let function, count > 0 else { return false }
        return function(descriptor, offset, count, waitBefore | write | waitAfter) == 0
    }
}
