import Foundation

/// Reads a directory tree the way `TarReader` reads an archive: every entry (relative path,
/// kind, size, mode, and its `lstat`) to `entry`, each regular file's bytes in order to `data`,
/// then `fileEnd` once the file has been read whole. The tree is walked without following links; a link,
/// device or FIFO is shown to `entry` (which may refuse it) and then refused here, never read
/// through. A file whose size changes while it is read is refused. Blocking; use it from a
/// dedicated thread.
public enum DirectoryTreeReader {
    public static func read(
        directory root: String,
        entry: (ArchiveEntry, stat) throws -> Void = { _, _ in },
        data: (ArchiveEntry, UnsafeRawBufferPointer) throws -> Void = { _, _ in },
        fileEnd: (ArchiveEntry) throws -> Void = { _ in }
    ) throws {
        var rootInfo = stat()
        guard lstat(root, &rootInfo) == 0, rootInfo.st_mode & S_IFMT == S_IFDIR else {
            throw ArchiveError(.io, "\(root) is not a directory")
        }
        guard let walk = FileManager.default.enumerator(atPath: root) else { throw ArchiveError(.io, "cannot list \(root)") }
        let capacity = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        while let relative = walk.nextObject() as? String {
            let path = root + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { throw ArchiveError(.io, "cannot read \(path): \(String(cString: strerror(errno)))") }
            let kind: ArchiveEntry.Kind
            switch info.st_mode & S_IFMT {
            case S_IFDIR: kind = .directory
            case S_IFREG: kind = .file
            case S_IFLNK: kind = .symlink(target: ArchivePath(bytes: []))
            default: kind = .other
            }
            let current = ArchiveEntry(path: ArchivePath(bytes: Array(relative.utf8)), kind: kind, size: Int64(info.st_size), mode: UInt32(info.st_mode & 0o7777))
            try entry(current, info)
            switch kind {
            case .directory:
                continue
            case .file:
                let input = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
                guard input >= 0 else { throw ArchiveError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
                defer { close(input) }
                var total: Int64 = 0
                while true {
                    let count = Glibc.read(input, buffer, capacity)
                    if count < 0 {
                        if errno == EINTR { continue }
                        throw ArchiveError(.io, "cannot read \(path): \(String(cString: strerror(errno)))")
                    }
                    if count == 0 { break }
                    try data(current, UnsafeRawBufferPointer(start: buffer, count: count))
                    total += Int64(count)
                }
                guard total == current.size else {
                    throw ArchiveError(.corrupt, "\(path) changed size while it was read (\(current.size) → \(total) bytes)")
                }
                try fileEnd(current)
            case .symlink, .hardlink, .other:
                throw ArchiveError(.unsafeEntry, "refused: \(relative) is not a regular file or directory")
            }
        }
    }
}
