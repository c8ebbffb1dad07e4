#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The local side of uploads and downloads: plain descriptors, called only on the session's
/// blocking thread. Errors come back complete (`RemoteFileError.Kind.localFile`).
final class LocalFile: @unchecked Sendable {
    // @unchecked: the descriptor is used by one thread at a time, the transfer's.
    let path: String
    let descriptor: Int32
    private var closed = false

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close() }

    /// An existing regular file, for reading, and its size.
    static func openForReading(_ path: String) throws(RemoteFileError) -> (file: LocalFile, size: Int64) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("cannot open the local file \(path)", errno) }
        let file = LocalFile(path: path, descriptor: descriptor)
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("cannot stat the local file \(path)", errno) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw RemoteFileError(.localFile, "the local path \(path) is not a regular file")
        }
        return (file, Int64(status.st_size))
    }

    /// A new file, mode 0600. O_EXCL: never overwrites anything; O_NOFOLLOW: a symlink planted
    /// at `path` is not followed somewhere else.
    static func create(_ path: String) throws(RemoteFileError) -> LocalFile {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            if code == EEXIST { throw RemoteFileError(.localFile, "the local file \(path) exists already: downloads only create new files") }
            throw failure("cannot create the local file \(path)", code)
        }
        return LocalFile(path: path, descriptor: descriptor)
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws(RemoteFileError) {
        guard var address = chunk.baseAddress else { return }
        var left = chunk.count
        while left > 0 {
            let written = posixWrite(descriptor, address, left)
            if written < 0 {
                if errno == EINTR { continue }
                throw Self.failure("cannot write the local file \(path)", errno)
            }
            left -= written
            address += written
        }
    }

    /// The data and the new directory entry on disk: a download that returned is there after a crash.
    func sync() throws(RemoteFileError) {
        guard fsync(descriptor) == 0 else { throw Self.failure("cannot fsync the local file \(path)", errno) }
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let directoryDescriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else { throw Self.failure("cannot open the local directory \(directory)", errno) }
        defer { _ = posixClose(directoryDescriptor) }
        guard fsync(directoryDescriptor) == 0 else { throw Self.failure("cannot fsync the local directory \(directory)", errno) }
    }

    func close() {
        guard !closed else { return }
        closed = true
        _ = posixClose(descriptor)
    }

    /// Closes and deletes a file this process created (a download that failed).
    func remove() {
        close()
        unlink(path)
    }

    static func failure(_ what: String, _ code: Int32) -> RemoteFileError {
        RemoteFileError(.localFile, "\(what): \(String(cString: strerror(code)))")
    }
}

// The C calls under names the methods above do not shadow.
private func posixWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(descriptor, buffer, count) }
private func posixClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
