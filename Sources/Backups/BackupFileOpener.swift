import Foundation
import Glibc

/// Opens a file of a backup for reading without being fooled or hung: every path component is
/// opened beneath the backup root without following a symbolic link (a link to an identical copy
/// elsewhere is not the backup), the file itself with `O_NONBLOCK` (a FIFO or device in its place
/// cannot block the reader), and only a regular file is accepted. Blocking (disk): call it from
/// a dedicated thread (`Archiver.run`).
enum BackupFileOpener {
    /// An open regular file of the backup; the caller closes `descriptor`.
    struct OpenFile {
        let descriptor: Int32
        let permissions: mode_t
        let bytes: Int64
    }

    static func open(_ relative: String, under root: String) throws -> OpenFile {
        let components = relative.split(separator: "/").map(String.init)
        guard let last = components.last, !components.contains(where: { $0 == "." || $0 == ".." }) else {
            throw BackupError("\(relative.debugDescription) is not a path inside the backup")
        }
        var directory = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw BackupError("cannot open \(root): \(String(cString: strerror(errno)))") }
        defer { close(directory) }
        var walked = ""
        for component in components.dropLast() {
            walked += (walked.isEmpty ? "" : "/") + component
            let next = openat(directory, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { throw failure(errno, at: walked, under: directory, name: component) }
            close(directory)
            directory = next
        }
        let descriptor = openat(directory, last, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(errno, at: relative, under: directory, name: last) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let error = errno
            close(descriptor)
            throw BackupError("cannot inspect \(relative): \(String(cString: strerror(error)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw BackupError("\(relative) is \(kind(info.st_mode)), not a regular file; the backup was tampered with")
        }
        return OpenFile(descriptor: descriptor, permissions: info.st_mode & 0o7777, bytes: Int64(info.st_size))
    }

    /// The whole file, for small files such as the manifest; refuses one larger than `limit`.
    static func contents(of relative: String, under root: String, limit: Int) throws -> Data {
        let file = try open(relative, under: root)
        defer { close(file.descriptor) }
        guard file.bytes <= limit else { throw BackupError("\(relative) has \(file.bytes) bytes, more than the \(limit) it may have") }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while data.count <= limit {
            let count = buffer.withUnsafeMutableBytes { read(file.descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw BackupError("cannot read \(relative): \(String(cString: strerror(errno)))")
            }
            if count == 0 { return data }
            data.append(contentsOf: buffer[0..<count])
        }
        throw BackupError("\(relative) grew past \(limit) bytes while it was read")
    }

    /// "a symbolic link", "a FIFO", ... for a `st_mode`.
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFLNK: "a symbolic link"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "of unknown type"
        }
    }

    /// Names what stood in the way: a link (`ELOOP` from `O_NOFOLLOW`), something that is not a
    /// directory, or nothing at all.
    private static func failure(_ error: Int32, at path: String, under directory: Int32, name: String) -> BackupError {
        var info = stat()
        if fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_mode & S_IFMT != S_IFREG, info.st_mode & S_IFMT != S_IFDIR {
            return BackupError("\(path) is \(kind(info.st_mode)), not a regular file or directory; the backup was tampered with")
        }
        if error == ENOENT { return BackupError("\(path) is missing") }
        return BackupError("cannot open \(path): \(String(cString: strerror(error)))")
    }
}
