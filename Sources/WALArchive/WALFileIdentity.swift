import Foundation

/// What `.ok` remembers of the file that was pushed: enough to tell, without reading 16 MB, that
/// the file PostgreSQL now hands over under that name is the one stored (a spool reused by
/// another cluster, or a restored data directory, must not acknowledge a file never pushed).
package struct WALFileIdentity: Sendable, Equatable {
    package var device: UInt64
    package var inode: UInt64
    package var size: Int64
    package var modified: Int64  // nanoseconds since the epoch
    package var sha256Hex: String

    package init(device: UInt64, inode: UInt64, size: Int64, modified: Int64, sha256Hex: String) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
        self.sha256Hex = sha256Hex
    }

    /// The identity of the file at `path` now (the checksum left empty: not computed).
    package static func of(_ path: String) -> WALFileIdentity? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return WALFileIdentity(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec), sha256Hex: "")
    }

    /// Same file, same size, same modification time; the checksum is informational.
    package func sameFile(as other: WALFileIdentity) -> Bool {
        device == other.device && inode == other.inode && size == other.size && modified == other.modified
    }

    var text: String { "device=\(device) inode=\(inode) size=\(size) mtime_ns=\(modified) sha256=\(sha256Hex)\n" }

    init?(_ text: String) {
        var fields: [Substring: Substring] = [:]
        for part in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            guard let equals = part.firstIndex(of: "=") else { return nil }
            fields[part[..<equals]] = part[part.index(after: equals)...]
        }
        guard let device = fields["device"].flatMap({ UInt64($0) }), let inode = fields["inode"].flatMap({ UInt64($0) }),
              let size = fields["size"].flatMap({ Int64($0) }), let modified = fields["mtime_ns"].flatMap({ Int64($0) }) else { return nil }
        self.init(device: device, inode: inode, size: size, modified: modified, sha256Hex: String(fields["sha256"] ?? ""))
    }
}
