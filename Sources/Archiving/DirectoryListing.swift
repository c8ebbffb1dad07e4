import Foundation

/// The names in one directory, as the bytes the file system stores, sorted bytewise.
///
/// `FileManager` decodes names as UTF-8 and cannot represent the others; `readdir` hands
/// over whatever bytes are there. Blocking; use it from a dedicated thread.
public enum DirectoryListing {
    /// Lists the directory at `path` (a symbolic link there is not followed).
    public static func names(in path: ArchivePath) throws(ArchiveError) -> [[UInt8]] {
        let descriptor = path.withCString { open($0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard descriptor >= 0 else { throw ArchiveError(.io, "cannot list \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        return try names(in: descriptor, shownAs: path)
    }

    /// Lists the open directory `descriptor` (which stays open); `shown` names it in errors.
    static func names(in descriptor: Int32, shownAs directory: ArchivePath) throws(ArchiveError) -> [[UInt8]] {
        let own = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        guard own >= 0, let stream = fdopendir(own) else {
            if own >= 0 { close(own) }
            throw ArchiveError(.io, "cannot list \(directory): \(String(cString: strerror(errno)))")
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw ArchiveError(.io, "cannot list \(directory): \(String(cString: strerror(errno)))") }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }
}
