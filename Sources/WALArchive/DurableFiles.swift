import Foundation

/// The system calls behind durable writes: every failure comes back as a `WALArchiveError`
/// naming the path and the system's reason. Blocking.
enum DurableFiles {
    static func reason(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    /// Flushes a directory, so the names created, linked or removed in it survive a crash.
    static func syncDirectory(_ path: String) throws(WALArchiveError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw WALArchiveError(.io, "cannot open directory \(path) to flush it: \(reason())") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw WALArchiveError(.io, "cannot flush directory \(path) to disk: \(reason())") }
    }

    static func sync(_ descriptor: Int32, _ path: String) throws(WALArchiveError) {
        guard fsync(descriptor) == 0 else { throw WALArchiveError(.io, "cannot flush \(path) to disk: \(reason())") }
    }

    /// Creates the missing directories of `chain` (outermost first; the first one's parent
    /// must exist), each durably: its parent is flushed after it is made. Directories are
    /// 0750, keeping the set-group-ID bit a parent passes down, so the orchestrator's group can
    /// read what postgres writes whatever postgres's umask (0077 in the server).
    static func makeDirectories(_ chain: [String]) throws(WALArchiveError) {
        for directory in chain {
            var info = stat()
            if lstat(directory, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else { throw WALArchiveError(.io, "\(directory) exists and is not a directory") }
                continue
            }
            guard mkdir(directory, 0o750) == 0 || errno == EEXIST else {
                throw WALArchiveError(.io, "cannot create directory \(directory): \(reason())")
            }
            guard lstat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw WALArchiveError(.io, "\(directory) exists and is not a directory")
            }
            guard chmod(directory, 0o750 | (info.st_mode & S_ISGID)) == 0 else {
                throw WALArchiveError(.io, "cannot set the mode of \(directory): \(reason())")
            }
            try syncDirectory(parent(of: directory))
        }
    }

    /// `path` without trailing slashes; refused unless absolute (`what` names it in the error).
    static func absoluteDirectory(_ path: String, what: String) throws(WALArchiveError) -> String {
        guard path.hasPrefix("/") else {
            throw WALArchiveError(.io, "the \(what) must be an absolute path, not \(WALFileName.shown(path))")
        }
        var trimmed = path
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func lastComponent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    static func read(_ descriptor: Int32, count: Int, at offset: Int64, _ path: String) throws(WALArchiveError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if got < 0 {
                if errno == EINTR { continue }
                throw WALArchiveError(.io, "cannot read \(path): \(reason())")
            }
            if got == 0 { break }
            done += got
        }
        return Array(buffer[0..<done])
    }

    static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, _ path: String) throws(WALArchiveError) {
        var done = 0
        while done < bytes.count {
            let wrote = Foundation.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if wrote < 0 {
                if errno == EINTR { continue }
                throw WALArchiveError(.io, "cannot write \(path): \(reason())")
            }
            done += wrote
        }
    }

    static func write(_ descriptor: Int32, _ bytes: [UInt8], _ path: String) throws(WALArchiveError) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { copy.deallocate() }
        copy.copyBytes(from: bytes)
        try write(descriptor, UnsafeRawBufferPointer(copy), path)
    }

    /// Opens a regular file for reading without following a final symbolic link; nil when it
    /// does not exist.
    static func openRegularFile(_ path: String) throws(WALArchiveError) -> (descriptor: Int32, size: Int64)? {
        do {
            return try openExistingRegularFile(path)
        } catch where error.code == .notFound {
            return nil
        }
    }

    /// As `openRegularFile`, with a missing file an error (`.notFound`).
    static func openExistingRegularFile(_ path: String) throws(WALArchiveError) -> (descriptor: Int32, size: Int64) {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw WALArchiveError(errno == ENOENT ? .notFound : .io, "cannot open \(path): \(reason())")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let message = reason()
            close(descriptor)
            throw WALArchiveError(.io, "cannot stat \(path): \(message)")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw WALArchiveError(.refused, "\(path) is not a regular file")
        }
        return (descriptor, Int64(info.st_size))
    }
}
