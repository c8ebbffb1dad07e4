/// What a repository of off-site copies is to the code that copies, checks, fetches and prunes
/// backups: files under '/'-separated relative paths, on an SFTP server (`SFTPSession`) or in an
/// S3 bucket (`S3Session`). Every call fails with a `RemoteFileError` whose kind says what went
/// wrong (not found, refused, interrupted, ...); no message ever holds a secret.
///
/// What the stores share: a file exists under its name only once it was written whole (SFTP
/// renames a `.part` file into place, S3 creates an object only when its upload completes). What
/// differs: only SFTP renames directories (`renamesDirectories`); on S3 a directory exists as long
/// as an object under it does, so a copy is committed by writing its commit file last.
public protocol RemoteFileSession: AnyObject, Sendable {
    /// True when `rename(_:to:)` moves a whole directory in one step.
    var renamesDirectories: Bool { get }

    /// Stops the call running now, refuses later ones, and frees the connection; returns at once.
    func close()
    /// Creates `path` and the directories above it; fine when they exist (nothing to do on S3).
    func makeDirectory(_ path: String) async throws(RemoteFileError)
    /// The names one level below `directory` ("" is the base).
    func list(_ directory: String) async throws(RemoteFileError) -> [String]
    /// The size of the file at `path`, nil when it does not exist.
    func size(of path: String) async throws(RemoteFileError) -> Int64?
    /// Streams a local file to `path` (replacing it); `path` exists only complete. Returns the bytes sent.
    @discardableResult
    func upload(file localPath: String, to path: String, maxBytesPerSecond: Int64?, progress: (@Sendable (Int64) -> Void)?) async throws(RemoteFileError) -> Int64
    /// Streams `size` bytes from `producer` to `path`; one that throws or ends short leaves `path` as it was.
    @discardableResult
    func upload(
        size: Int64, to path: String, maxBytesPerSecond: Int64?, progress: (@Sendable (Int64) -> Void)?,
        from producer: @escaping @Sendable (UnsafeMutableRawBufferPointer) throws -> Int
    ) async throws(RemoteFileError) -> Int64
    /// Streams the file at `path` to `consumer` in chunks; returns the bytes read.
    func read(_ path: String, into consumer: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws(RemoteFileError) -> Int64
    /// SHA-256 (lowercase hex) and size of the file, read end to end.
    func sha256(of path: String) async throws(RemoteFileError) -> (bytes: Int64, sha256: String)
    /// Downloads into a new local file (0600, synced), hashing on the way; a failure leaves no local file.
    func download(_ path: String, to localPath: String) async throws(RemoteFileError) -> (bytes: Int64, sha256: String)
    /// Renames a file or directory. Only stores with `renamesDirectories` can; S3 refuses.
    func rename(_ from: String, to: String) async throws(RemoteFileError)
    /// Ends what a killed process left half uploaded under `directory`, so that it costs nothing
    /// more: S3 aborts open multipart uploads (billed until then); SFTP has nothing to do, its
    /// `.part` file is replaced by the next upload of the same file. Returns how many it ended.
    @discardableResult
    func discardInterruptedUploads(under directory: String) async throws(RemoteFileError) -> Int
    /// Removes a file; notFound when it is missing.
    func remove(_ path: String) async throws(RemoteFileError)
    /// Removes a directory and everything under it; fine when it is missing.
    func removeTree(_ path: String) async throws(RemoteFileError)
}

extension SFTPSession: RemoteFileSession {
    public var renamesDirectories: Bool { true }

    public func discardInterruptedUploads(under directory: String) async throws(RemoteFileError) -> Int { 0 }
}

extension S3Session: RemoteFileSession {
    public var renamesDirectories: Bool { false }

    public func discardInterruptedUploads(under directory: String) async throws(RemoteFileError) -> Int {
        try await abortIncompleteUploads(under: directory)
    }

    /// S3 has no rename: an object would have to be copied and deleted, a "directory" object by
    /// object. Callers check `renamesDirectories` and commit by writing their commit file last.
    public func rename(_ from: String, to: String) async throws(RemoteFileError) {
        throw RemoteFileError(.other, "renaming \(endpoint.location(ofKey: from)) failed: S3 has no rename; write the final name directly")
    }
}
