import BlockingWork
import CurlSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One SSH connection (one libcurl easy handle, which keeps the connection alive between transfers) used by
/// sequential calls; calls are serialised (e.g. on a BlockingSerialQueue from BlockingWork or a lock + BlockingExecutor),
/// never block Swift's cooperative pool, and a cancelled Task aborts its transfer within about a second.
/// Every `path` is relative to endpoint.basePath, '/'-separated; absolute paths, empty components, '.' and '..' are refused (invalidPath).
///
/// Calls run one after another on a `BlockingSerialQueue`, in the order they were made: libcurl
/// allows one transfer at a time on a handle. A call whose task is cancelled while it waits for
/// its turn is dropped; one that runs is stopped by libcurl's progress, read and write
/// callbacks, which see a flag. Consumers of `read` run on that blocking thread.
public final class SFTPSession: Sendable {
    public let endpoint: SFTPEndpoint
    private let calls: SerialCalls<SFTPConnection>

    /// Checks that the key files can be read and prepares the handle; connects on the first call.
    public init(endpoint: SFTPEndpoint, executor: BlockingExecutor = .shared) throws(RemoteFileError) {
        for file in [endpoint.privateKeyFile] + (endpoint.publicKeyFile.map { [$0] } ?? []) where access(file, R_OK) != 0 {
            throw RemoteFileError(.localFile, "cannot read the SSH key file \(file) for \(endpoint): \(String(cString: strerror(errno)))")
        }
        do {
            calls = SerialCalls(connection: try SFTPConnection(endpoint: endpoint), executor: executor)
        } catch {
            throw RemoteFileError(.other, "cannot prepare an SFTP session for \(endpoint): \(error)")
        }
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
        // Every level, base included, with '*': one that exists already fails and is ignored.
        // The listing that follows proves that the directory is there.
        let levels = baseLevels + directory.selfAndAncestors
        let request = SFTPRequest(path: directory.absolute, isDirectory: true, body: .listing, quote: levels.map { "*mkdir " + RemotePath.quote($0) })
        do throws(RemoteFileError) {
            _ = try await perform(request, "creating the directory", directory)
        } catch where error.kind == .notFound {
            throw RemoteFileError(.other, "creating the directory \(location(directory)) failed: it is still missing after mkdir (no permission on the server?)")
        }
    }

    /// The names in `directory` ("" is the base directory), without "." and ".."; notFound when missing.
    public func list(_ directory: String) async throws(RemoteFileError) -> [String] {
        try await names(in: try remotePath(directory, allowsBase: true), quote: [], action: "listing")
    }

    /// The size of the file at `path`, nil when it does not exist.
    public func size(of path: String) async throws(RemoteFileError) -> Int64? {
        let file = try remotePath(path)
        do throws(RemoteFileError) {
            let outcome = try await perform(SFTPRequest(path: file.absolute, body: .none), "reading the size of", file)
            // libcurl reports an empty file's size as unknown (-1); OpenSSH always reports sizes.
            return max(0, outcome.remoteSize)
        } catch where error.kind == .notFound {
            return nil
        }
    }

    /// Streams the local file (constant memory) to "<path>.part", then renames it to `path`, replacing an existing `path`,
    /// so `path` only ever exists complete. maxBytesPerSecond: CURLOPT_MAX_SEND_SPEED_LARGE. progress gets bytes sent so far.
    ///
    /// Missing directories above `path` are created. The rename runs only after the whole file
    /// was written (libcurl's post-quote commands run only after a successful transfer); an
    /// interrupted upload leaves at most the ".part" file, which the next upload overwrites.
    /// OpenSSH's sftp-server will not rename onto an existing file, so `path` is removed just
    /// before the rename: for that moment it is absent, never incomplete.
    @discardableResult
    public func upload(
        file localPath: String, to path: String, maxBytesPerSecond: Int64? = nil, progress: (@Sendable (Int64) -> Void)? = nil
    ) async throws(RemoteFileError) -> Int64 {
        let target = try remotePath(path)
        let part = target.withSuffix(".part")
        if let maxBytesPerSecond, maxBytesPerSecond <= 0 {
            throw RemoteFileError(.other, "uploading \(localPath) to \(location(target)) failed: the rate limit must be positive")
        }
        return try await run("uploading \(localPath) to", target, readingFrom: localPath) { connection, flag throws(SFTPFailure) -> Int64 in
            let source: (file: LocalFile, size: Int64)
            do throws(RemoteFileError) { source = try LocalFile.openForReading(localPath) } catch { throw .complete(error) }
            defer { source.file.close() }
            let request = SFTPRequest(
                path: part.absolute, body: .upload(descriptor: source.file.descriptor, size: source.size),
                postQuote: ["*rm " + target.quoted, "rename \(part.quoted) \(target.quoted)"],
                createMissingDirectories: true, maxSendBytesPerSecond: maxBytesPerSecond, progress: progress
            )
            return try connection.perform(request, cancellation: flag).bytes
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
        let part = target.withSuffix(".part")
        if let maxBytesPerSecond, maxBytesPerSecond <= 0 {
            throw RemoteFileError(.other, "uploading to \(location(target)) failed: the rate limit must be positive")
        }
        let request = SFTPRequest(
            path: part.absolute, body: .stream(producer, size: size),
            postQuote: ["*rm " + target.quoted, "rename \(part.quoted) \(target.quoted)"],
            createMissingDirectories: true, maxSendBytesPerSecond: maxBytesPerSecond, progress: progress
        )
        return try await perform(request, "uploading to", target).bytes
    }

    /// Streams the remote file in chunks to `consumer` (constant memory); returns the bytes read. A throwing consumer aborts the transfer.
    ///
    /// The consumer runs on the session's blocking thread, one chunk at a time, and may block
    /// (write to a pipe, say). A `RemoteFileError` it throws comes back as it is.
    public func read(_ path: String, into consumer: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws(RemoteFileError) -> Int64 {
        let file = try remotePath(path)
        return try await perform(SFTPRequest(path: file.absolute, body: .download(consumer)), "reading", file).bytes
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
        let bytes = try await run("downloading", file, downloadingTo: localPath) { connection, flag throws(SFTPFailure) -> Int64 in
            let local: LocalFile
            do throws(RemoteFileError) { local = try LocalFile.create(localPath) } catch { throw .complete(error) }
            var kept = false
            defer { if !kept { local.remove() } }
            let consumer: @Sendable (UnsafeRawBufferPointer) throws -> Void = { chunk in
                try local.write(chunk)
                digest.update(chunk)
            }
            let outcome = try connection.perform(SFTPRequest(path: file.absolute, body: .download(consumer)), cancellation: flag)
            do throws(RemoteFileError) { try local.sync() } catch { throw .complete(error) }
            local.close()
            kept = true
            return outcome.bytes
        }
        return (bytes, digest.hex())
    }

    /// Renames `from` to `to`, replacing `to` when it is a file; notFound when `from` is missing.
    ///
    /// `from` is opened first and the rename runs as a post-quote command, so a missing `from`
    /// never costs the existing `to`.
    public func rename(_ from: String, to: String) async throws(RemoteFileError) {
        let source = try remotePath(from)
        let target = try remotePath(to)
        let request = SFTPRequest(path: source.absolute, body: .none, postQuote: ["*rm " + target.quoted, "rename \(source.quoted) \(target.quoted)"])
        _ = try await perform(request, "renaming \(location(source)) to", target)
    }

    /// Removes a file; notFound when it is missing.
    public func remove(_ path: String) async throws(RemoteFileError) {
        let file = try remotePath(path)
        _ = try await perform(quoteOnly: ["rm " + file.quoted], "removing", file)
    }

    /// Removes a directory and everything in it; fine if it is missing.
    ///
    /// Per directory: list it, remove every entry with `rm` (directories refuse and are left)
    /// while listing it again in the same round trip, descend into what is left, then `rmdir`.
    /// Symbolic links are removed, never followed.
    public func removeTree(_ path: String) async throws(RemoteFileError) {
        try await removeTree(try remotePath(path))
    }

    private func removeTree(_ directory: RemotePath) async throws(RemoteFileError) {
        var entries: [String]
        do throws(RemoteFileError) {
            entries = try await names(in: directory, quote: [], action: "listing")
        } catch where error.kind == .notFound {
            return
        }
        if !entries.isEmpty {
            var removals: [String] = []
            for name in entries { removals.append("*rm " + (try directory.appending(name, base: endpoint.basePath)).quoted) }
            entries = try await names(in: directory, quote: removals, action: "removing the files in")
        }
        for name in entries {
            try await removeTree(try directory.appending(name, base: endpoint.basePath))
        }
        _ = try await perform(quoteOnly: ["rmdir " + directory.quoted], "removing the directory", directory)
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

    private func names(in directory: RemotePath, quote: [String], action: String) async throws(RemoteFileError) -> [String] {
        let request = SFTPRequest(path: directory.absolute, isDirectory: true, body: .listing, quote: quote)
        let listing = try await perform(request, action, directory).listing
        return listing.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }.filter { $0 != "." && $0 != ".." }
    }

    /// Quote commands alone: the URL names the base directory, and with CURLOPT_NOBODY libcurl
    /// neither opens nor lists it.
    private func perform(quoteOnly commands: [String], _ action: String, _ path: RemotePath) async throws(RemoteFileError) -> SFTPOutcome {
        try await perform(SFTPRequest(path: endpoint.basePath, isDirectory: true, body: .none, quote: commands), action, path)
    }

    private func perform(_ request: SFTPRequest, _ action: String, _ path: RemotePath) async throws(RemoteFileError) -> SFTPOutcome {
        try await run(action, path) { connection, flag throws(SFTPFailure) in try connection.perform(request, cancellation: flag) }
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
