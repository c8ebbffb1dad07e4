import BlockingWork
import CurlSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One SSH connection (OpenSSH's `ssh` running the server's sftp subsystem, see `SSHProcess`),
/// kept alive between calls and used by sequential calls. Calls never block Swift's cooperative
/// pool, and a cancelled Task stops its transfer within about a second.
/// Every `path` is relative to endpoint.basePath, '/'-separated; absolute paths, empty components, '.' and '..' are refused (invalidPath).
///
/// Calls run one after another on a `BlockingSerialQueue`, in the order they were made. A call
/// whose task is cancelled while it waits for its turn is dropped; one that runs sees a flag
/// between packets and while it waits for the server. Consumers of `read` run on that blocking
/// thread.
public final class SFTPSession: Sendable {
    public let endpoint: SFTPEndpoint
    private let calls: SerialCalls<SFTPConnection>

    /// At most this much of names in one directory listing.
    static let maxListingBytes = 32 * 1024 * 1024

    /// Checks that the key files can be read; connects on the first call.
    public init(endpoint: SFTPEndpoint, executor: BlockingExecutor = .shared) throws(RemoteFileError) {
        if access(endpoint.privateKeyFile, R_OK) != 0 {
            throw RemoteFileError(.localFile, "cannot read the SSH key file \(endpoint.privateKeyFile) for \(endpoint): \(String(cString: strerror(errno)))")
        }
        calls = SerialCalls(connection: SFTPConnection(endpoint: endpoint), executor: executor)
        self.endpoint = endpoint
    }

    /// Stops the call running now, refuses later ones, and ends the SSH session once the queue
    /// gets to it; returns at once.
    public func close() {
        calls.close { $0.close() }
    }

    /// Creates `path` and each missing directory above it, up from the endpoint's base directory;
    /// fine if they exist.
    public func makeDirectory(_ path: String) async throws(RemoteFileError) {
        let directory = try remotePath(path, allowsBase: true)
        let levels = baseLevels + directory.selfAndAncestors
        let exists = try await onChannel("creating the directory", directory) { channel, flag throws(SFTPFailure) -> Bool in
            try Self.makeLevels(levels, on: channel, cancellation: flag)
            return try channel.attributes(of: directory.absolute, cancellation: flag)?.isDirectory == true
        }
        guard exists else {
            throw RemoteFileError(.other, "creating the directory \(location(directory)) failed: it is still missing after mkdir (no permission on the server?)")
        }
    }

    /// The names in `directory` ("" is the base directory), without "." and ".."; notFound when missing.
    public func list(_ directory: String) async throws(RemoteFileError) -> [String] {
        try await entries(in: try remotePath(directory, allowsBase: true)).map(\.name)
    }

    /// The size of the file at `path`, nil when it does not exist.
    public func size(of path: String) async throws(RemoteFileError) -> Int64? {
        let file = try remotePath(path)
        let attributes = try await onChannel("reading the size of", file) { channel, flag throws(SFTPFailure) in try channel.attributes(of: file.absolute, cancellation: flag) }
        return attributes.map { Int64(clamping: $0.size ?? 0) }
    }

    /// Streams the local file (constant memory) to "<path>.part", then renames it to `path`, replacing an existing `path`,
    /// so `path` only ever exists complete. progress gets the bytes the server has acknowledged so far.
    ///
    /// Missing directories above `path` are created. The rename runs only after the whole file
    /// was written and closed; an interrupted upload leaves at most the ".part" file, which the
    /// next upload overwrites. With OpenSSH's posix-rename the target is replaced atomically.
    @discardableResult
    public func upload(
        file localPath: String, to path: String, maxBytesPerSecond: Int64? = nil, progress: (@Sendable (Int64) -> Void)? = nil
    ) async throws(RemoteFileError) -> Int64 {
        let target = try remotePath(path)
        if let maxBytesPerSecond, maxBytesPerSecond <= 0 {
            throw RemoteFileError(.other, "uploading \(localPath) to \(location(target)) failed: the rate limit must be positive")
        }
        let levels = baseLevels + target.ancestors
        return try await run("uploading \(localPath) to", target, readingFrom: localPath) { connection, flag throws(SFTPFailure) -> Int64 in
            let source: (file: LocalFile, size: Int64)
            do throws(RemoteFileError) { source = try LocalFile.openForReading(localPath) } catch { throw .complete(error) }
            defer { source.file.close() }
            let descriptor = source.file.descriptor
            return try connection.withChannel(cancellation: flag) { channel throws(SFTPFailure) -> Int64 in
                try Self.send(size: source.size, to: target, levels: levels, on: channel, maxBytesPerSecond: maxBytesPerSecond, progress: progress, cancellation: flag) { buffer throws(SFTPFailure) -> Int in
                    while true {
                        let count = Glibc.read(descriptor, buffer.baseAddress!, buffer.count)
                        if count > 0 { return count }
                        if count == 0 { throw .complete(RemoteFileError(.localFile, "the local file \(localPath) ended before its \(source.size) bytes: it changed while it was sent")) }
                        if errno != EINTR { throw .localRead(errno) }
                    }
                }
            }
        }
    }

    /// Like `upload(file:to:)`, with the bytes from `producer` instead of a file: it fills the
    /// buffer it is given and returns how much it wrote, 0 at the end; `size` bytes in all. It
    /// runs on the session's blocking thread; an error it throws aborts the upload (the target
    /// keeps what it had) and comes back as it is when it is a `RemoteFileError`.
    @discardableResult
    public func upload(
        size: Int64, to path: String, maxBytesPerSecond: Int64? = nil, progress: (@Sendable (Int64) -> Void)? = nil,
        from producer: @escaping @Sendable (UnsafeMutableRawBufferPointer) throws -> Int
    ) async throws(RemoteFileError) -> Int64 {
        let target = try remotePath(path)
        if let maxBytesPerSecond, maxBytesPerSecond <= 0 {
            throw RemoteFileError(.other, "uploading to \(location(target)) failed: the rate limit must be positive")
        }
        guard size >= 0 else { throw RemoteFileError(.other, "uploading to \(location(target)) failed: the size \(size) is negative") }
        let levels = baseLevels + target.ancestors
        return try await onChannel("uploading to", target) { channel, flag throws(SFTPFailure) -> Int64 in
            var produced: Int64 = 0
            func produce(_ buffer: UnsafeMutableRawBufferPointer) throws(SFTPFailure) -> Int {
                let count: Int
                do { count = try producer(buffer) } catch { throw .caller(error) }
                guard count >= 0 && count <= buffer.count else {
                    throw .consumer("the data to send gave \(count) bytes for a buffer of \(buffer.count)")
                }
                return count
            }
            return try Self.send(size: size, to: target, levels: levels, on: channel, maxBytesPerSecond: maxBytesPerSecond, progress: progress, cancellation: flag) { buffer throws(SFTPFailure) -> Int in
                // Whole chunks: a producer may give less than asked at a time.
                var filled = 0
                while filled < buffer.count {
                    let count = try produce(UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                    guard count > 0 else { break }
                    filled += count
                }
                produced += Int64(filled)
                if filled == 0 {
                    throw .consumer("the data to send ended at byte \(produced) of the \(size) announced")
                }
                if produced == size {
                    var probe: [UInt8] = [0]
                    let more = try probe.withMutableBytes { probe throws(SFTPFailure) in try produce(probe) }
                    if more > 0 { throw .consumer("the data to send runs past the \(size) bytes announced") }
                }
                return filled
            }
        }
    }

    /// Streams the remote file in chunks to `consumer` (constant memory); returns the bytes read. A throwing consumer aborts the transfer.
    ///
    /// The consumer runs on the session's blocking thread, one chunk at a time, and may block
    /// (write to a pipe, say). A `RemoteFileError` it throws comes back as it is.
    public func read(_ path: String, into consumer: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws(RemoteFileError) -> Int64 {
        let file = try remotePath(path)
        return try await onChannel("reading", file) { channel, flag throws(SFTPFailure) -> Int64 in
            try Self.receive(file, on: channel, cancellation: flag) { chunk throws(SFTPFailure) in
                do { try consumer(chunk) } catch { throw .caller(error) }
            }
        }
    }

    /// SHA-256 (lowercase hex) and size of the remote file, read end to end.
    public func sha256(of path: String) async throws(RemoteFileError) -> (bytes: Int64, sha256: String) {
        let digest = RunningDigest()
        let bytes = try await read(path) { chunk in digest.update(chunk) }
        return (bytes, digest.hex())
    }

    /// Downloads into a new local file (created with O_CREAT|O_EXCL|O_NOFOLLOW, 0600, fsynced), hashing on the way.
    ///
    /// A download that fails removes the local file it created; one that returns is on disk.
    public func download(_ path: String, to localPath: String) async throws(RemoteFileError) -> (bytes: Int64, sha256: String) {
        let file = try remotePath(path)
        let digest = RunningDigest()
        let bytes = try await onChannel("downloading", file, downloadingTo: localPath) { channel, flag throws(SFTPFailure) -> Int64 in
            // Opened before the local file is made: a missing remote file leaves nothing behind.
            let handle = try channel.open(file.absolute, flags: SFTPOpenFlags.read, cancellation: flag)
            let local: LocalFile
            do throws(RemoteFileError) { local = try LocalFile.create(localPath) } catch {
                try? channel.closeHandle(handle, cancellation: flag)
                throw .complete(error)
            }
            var kept = false
            defer { if !kept { local.remove() } }
            let bytes = try Self.receive(handle: handle, on: channel, cancellation: flag) { chunk throws(SFTPFailure) in
                do throws(RemoteFileError) { try local.write(chunk) } catch { throw .complete(error) }
                digest.update(chunk)
            }
            do throws(RemoteFileError) { try local.sync() } catch { throw .complete(error) }
            local.close()
            kept = true
            return bytes
        }
        return (bytes, digest.hex())
    }

    /// Renames `from` to `to`, replacing `to` when it is a file; notFound when `from` is missing,
    /// which never costs the existing `to`.
    public func rename(_ from: String, to: String) async throws(RemoteFileError) {
        let source = try remotePath(from)
        let target = try remotePath(to)
        try await onChannel("renaming \(location(source)) to", target) { channel, flag throws(SFTPFailure) in try channel.rename(source.absolute, to: target.absolute, cancellation: flag) }
    }

    /// Removes a file; notFound when it is missing.
    public func remove(_ path: String) async throws(RemoteFileError) {
        let file = try remotePath(path)
        try await onChannel("removing", file) { channel, flag throws(SFTPFailure) in try channel.removeFile(file.absolute, cancellation: flag) }
    }

    /// Removes a directory and everything in it; fine if it is missing.
    ///
    /// Per directory: list it with each entry's type (as the server stats it, not following
    /// links), remove the files and links, descend into the directories, then remove it.
    /// Symbolic links are removed, never followed.
    public func removeTree(_ path: String) async throws(RemoteFileError) {
        try await removeTree(try remotePath(path))
    }

    private func removeTree(_ directory: RemotePath) async throws(RemoteFileError) {
        let entries: [(name: String, attributes: SFTPAttributes)]
        do throws(RemoteFileError) {
            entries = try await self.entries(in: directory)
        } catch where error.kind == .notFound {
            return
        }
        for entry in entries {
            let child = try directory.appending(entry.name, base: endpoint.basePath)
            if entry.attributes.isDirectory {
                try await removeTree(child)
            } else {
                try await remove(child.relative)
            }
        }
        try await onChannel("removing the directory", directory) { channel, flag throws(SFTPFailure) in try channel.removeDirectory(directory.absolute, cancellation: flag) }
    }

    // MARK: - Plumbing

    private var baseLevels: [String] {
        guard endpoint.basePath != "/" else { return [] }
        var levels: [String] = []
        var current = ""
        for component in endpoint.basePath.dropFirst().split(separator: "/") {
            current += "/" + component
            levels.append(current)
        }
        return levels
    }

    private func remotePath(_ path: String, allowsBase: Bool = false) throws(RemoteFileError) -> RemotePath {
        try RemotePath(path, base: endpoint.basePath, allowsBase: allowsBase)
    }

    private func location(_ path: RemotePath) -> String { endpoint.location(of: path.absolute) }

    private func entries(in directory: RemotePath) async throws(RemoteFileError) -> [(name: String, attributes: SFTPAttributes)] {
        try await onChannel("listing", directory) { channel, flag throws(SFTPFailure) in
            try channel.entries(of: directory.absolute, limit: Self.maxListingBytes, cancellation: flag)
        }
    }

    /// MKDIR for each level, shallowest first; one that exists (or cannot be made) is passed
    /// over: what matters is whether the last one is there afterwards.
    private static func makeLevels(_ levels: [String], on channel: SFTPChannel, cancellation: CancellationFlag) throws(SFTPFailure) {
        for level in levels {
            try passingOverRefusal { () throws(SFTPFailure) in try channel.makeDirectory(level, cancellation: cancellation) }
        }
    }

    /// Writes "<target>.part" (creating missing directories), closes it, and renames it into place.
    private static func send(
        size: Int64, to target: RemotePath, levels: [String], on channel: SFTPChannel, maxBytesPerSecond: Int64?,
        progress: (@Sendable (Int64) -> Void)?, cancellation: CancellationFlag, fill: (UnsafeMutableRawBufferPointer) throws(SFTPFailure) -> Int
    ) throws(SFTPFailure) -> Int64 {
        let part = target.withSuffix(".part")
        // What an interrupted upload left goes first: a file is given its mode (0600) only when
        // it is created, and a leftover may have another.
        try passingOverRefusal { () throws(SFTPFailure) in try channel.removeFile(part.absolute, cancellation: cancellation) }
        let flags = SFTPOpenFlags.write | SFTPOpenFlags.create | SFTPOpenFlags.truncate
        let handle: [UInt8]
        do throws(SFTPFailure) {
            handle = try channel.open(part.absolute, flags: flags, cancellation: cancellation)
        } catch {
            guard case .status(let code, _) = error, code == SFTPStatusCode.noSuchFile.rawValue else { throw error }
            try makeLevels(levels, on: channel, cancellation: cancellation)
            handle = try channel.open(part.absolute, flags: flags, cancellation: cancellation)
        }
        let sent: Int64
        do throws(SFTPFailure) {
            sent = try channel.write(handle, size: size, maxBytesPerSecond: maxBytesPerSecond, progress: progress, cancellation: cancellation, fill: fill)
        } catch {
            if !channel.isBroken { try? channel.closeHandle(handle, cancellation: cancellation) }
            throw error
        }
        try channel.closeHandle(handle, cancellation: cancellation)
        if size == 0 { progress?(0) }
        try channel.rename(part.absolute, to: target.absolute, cancellation: cancellation)
        return sent
    }

    private static func receive(
        _ file: RemotePath, on channel: SFTPChannel, cancellation: CancellationFlag, consume: (UnsafeRawBufferPointer) throws(SFTPFailure) -> Void
    ) throws(SFTPFailure) -> Int64 {
        let handle = try channel.open(file.absolute, flags: SFTPOpenFlags.read, cancellation: cancellation)
        return try receive(handle: handle, on: channel, cancellation: cancellation, consume: consume)
    }

    /// Reads an open file to its end, then closes it (unless the connection broke).
    private static func receive(
        handle: [UInt8], on channel: SFTPChannel, cancellation: CancellationFlag, consume: (UnsafeRawBufferPointer) throws(SFTPFailure) -> Void
    ) throws(SFTPFailure) -> Int64 {
        let bytes: Int64
        do throws(SFTPFailure) {
            bytes = try channel.read(handle, cancellation: cancellation, consume: consume)
        } catch {
            if !channel.isBroken { try? channel.closeHandle(handle, cancellation: cancellation) }
            throw error
        }
        try channel.closeHandle(handle, cancellation: cancellation)
        return bytes
    }

    /// `run` on the session's SSH channel, connecting first when there is none.
    private func onChannel<T: Sendable>(
        _ action: String, _ path: RemotePath, downloadingTo localTarget: String? = nil,
        _ work: @escaping @Sendable (SFTPChannel, CancellationFlag) throws(SFTPFailure) -> T
    ) async throws(RemoteFileError) -> T {
        try await run(action, path, downloadingTo: localTarget) { connection, flag throws(SFTPFailure) -> T in
            try connection.withChannel(cancellation: flag) { channel throws(SFTPFailure) -> T in try work(channel, flag) }
        }
    }

    private func run<T: Sendable>(
        _ action: String, _ path: RemotePath, downloadingTo localTarget: String? = nil, readingFrom localSource: String? = nil,
        _ work: @escaping @Sendable (SFTPConnection, CancellationFlag) throws(SFTPFailure) -> T
    ) async throws(RemoteFileError) -> T {
        let shown = location(path) + (localTarget.map { " to \($0)" } ?? "")
        func failure(_ failure: SFTPFailure) -> RemoteFileError {
            RemoteFileError(failure, action: action, location: shown, endpoint: endpoint, localPath: localSource)
        }
        switch await calls.run(refused: { $0 == .closed ? SFTPFailure.closed : .cancelled }, work) {
        case .success(let value): return value
        case .failure(let error): throw failure(error)
        }
    }
}
