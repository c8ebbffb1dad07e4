import Crypto
import Foundation

/// SHA-256 of a file, read in fixed-size chunks (constant memory). Blocking: call it from a
/// dedicated thread (`Archiver.run`).
package enum FileDigest {
    package struct Result: Sendable, Equatable {
        package let sha256: String
        package let bytes: Int64
    }

    /// The file at `path`, which must be a regular file itself (not a link, FIFO or device).
    package static func sha256(ofFileAt path: String) throws -> Result {
        let url = URL(fileURLWithPath: path)
        return try sha256(ofFile: url.lastPathComponent, under: url.deletingLastPathComponent().path)
    }

    /// A file of a backup, opened beneath `root` without following links (`BackupFileOpener`).
    package static func sha256(ofFile relative: String, under root: String) throws -> Result {
        let file = try BackupFileOpener.open(relative, under: root)
        defer { close(file.descriptor) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total: Int64 = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(file.descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw BackupError("cannot read \(relative): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            total += Int64(count)
        }
        return Result(sha256: hex(hasher.finalize()), bytes: total)
    }

    package static func sha256(of data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// A backup, verification or restore failure; the message names the file or database involved.
package struct BackupError: Error, Sendable, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
