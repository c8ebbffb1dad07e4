import BlockingWork
import CurlSupport

/// Objects in one bucket under the endpoint's prefix, through one libcurl easy handle (which
/// keeps the HTTP connection alive between requests), signed with SigV4 by libcurl.
///
/// Paths are relative to the prefix and follow the rules of SFTP paths (relative, no '..', no
/// empty component). Calls run one after another on a `BlockingSerialQueue`, in the order they
/// were made; a cancelled task stops its transfer through libcurl's callbacks within about a second.
///
/// An object exists only once its PUT (or the completion of its multipart upload) succeeded:
/// uploads need no temporary name, and an interrupted one leaves no object behind.
public final class S3Session: Sendable {
    public let endpoint: S3Endpoint
    private let calls: SerialCalls<S3Connection>
    /// Keys per ListObjectsV2 page; S3's own maximum is 1000.
    private let listPageSize: Int


    /// Prepares the handle; connects on the first call. `listPageSize` is S3's 1000 unless a
    /// test wants to see continuation at work on a few keys.
    public init(endpoint: S3Endpoint, listPageSize: Int = 1000, executor: BlockingExecutor = .shared) throws(RemoteFileError) {
        do {
            calls = SerialCalls(connection: try S3Connection(endpoint: endpoint), executor: executor)
        } catch {
            throw RemoteFileError(.other, "cannot prepare an S3 session for \(endpoint): \(error)")
        }
        self.endpoint = endpoint
        self.listPageSize = max(1, min(1000, listPageSize))
    }

    /// Stops the call running now, refuses later ones, and frees the handle once the queue gets
    /// to it; returns at once.
    public func close() {
        calls.close { $0.close() }
    }

    /// Nothing to do: S3 has no directories, a key's "directories" exist as long as an object
    /// under them does. Only the path is checked, so callers written for SFTP work unchanged.
    public func makeDirectory(_ path: String) async throws(RemoteFileError) {
        _ = try key(path, allowsPrefix: true)
    }

    /// The size of the object at `path`, nil when it does not exist.
    public func size(of path: String) async throws(RemoteFileError) -> Int64? {
        let key = try key(path)
        do throws(RemoteFileError) {
            let response = try await perform(S3Request(method: "HEAD", key: key, body: .none), "reading the size of", key)
            guard let length = response.headers["content-length"].flatMap({ Int64($0) }) else {
                throw RemoteFileError(.other, "reading the size of \(endpoint.location(ofKey: key)) failed: the answer has no Content-Length")
            }
            return length
        } catch where error.kind == .notFound {
            return nil
        }
    }

    /// Streams the local file (constant memory) to `path`, replacing an existing object; one PUT
    /// up to the endpoint's part size, a multipart upload above. Returns the bytes sent.
    /// maxBytesPerSecond: CURLOPT_MAX_SEND_SPEED_LARGE. progress gets bytes sent so far.
    @discardableResult
    public func upload(
        file localPath: String, to path: String, maxBytesPerSecond: Int64? = nil, progress: (@Sendable (Int64) -> Void)? = nil
    ) async throws(RemoteFileError) -> Int64 {
        let key = try key(path)
        try checkRate(maxBytesPerSecond, "uploading \(localPath) to", key)
        return try await run("uploading \(localPath) to", key) { connection, flag throws(S3Failure) -> Int64 in
            let local: (file: LocalFile, size: Int64)
            do throws(RemoteFileError) { local = try LocalFile.openForReading(localPath) } catch { throw .complete(error) }
            defer { local.file.close() }
            let source = S3UploadSource(descriptor: local.file.descriptor, size: local.size)
            return try self.send(source, key: key, maxBytesPerSecond: maxBytesPerSecond, progress: progress, connection, flag)
        }
    }

    /// Like `upload(file:to:)`, with the bytes from `producer` instead of a file: it fills the
    /// buffer it is given and returns how much it wrote, 0 at the end; `size` bytes in all. It
    /// runs on the session's blocking thread. A producer that throws, ends short or runs over
    /// `size` fails the upload and no object is created (a multipart upload is aborted).
    @discardableResult
    public func upload(
        size: Int64, to path: String, maxBytesPerSecond: Int64? = nil, progress: (@Sendable (Int64) -> Void)? = nil,
        from producer: @escaping @Sendable (UnsafeMutableRawBufferPointer) throws -> Int
    ) async throws(RemoteFileError) -> Int64 {
        let key = try key(path)
        try checkRate(maxBytesPerSecond, "uploading to", key)
        return try await run("uploading to", key) { connection, flag throws(S3Failure) -> Int64 in
            let source = S3UploadSource(size: size, producer: producer)
            return try self.send(source, key: key, maxBytesPerSecond: maxBytesPerSecond, progress: progress, connection, flag)
        }
    }

    /// Streams the object in chunks to `consumer` (constant memory); returns the bytes read. A
    /// throwing consumer aborts the transfer; a `RemoteFileError` it throws comes back as it is.
    public func read(_ path: String, into consumer: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws(RemoteFileError) -> Int64 {
        let key = try key(path)
        return try await perform(S3Request(method: "GET", key: key, body: .download(consumer)), "reading", key).bytes
    }

    /// SHA-256 (lowercase hex) and size of the object, read end to end.
    public func sha256(of path: String) async throws(RemoteFileError) -> (bytes: Int64, sha256: String) {
        let digest = RunningDigest()
        let bytes = try await read(path) { chunk in digest.update(chunk) }
        return (bytes, digest.hex())
    }

    /// Downloads into a new local file (created with O_CREAT|O_EXCL|O_NOFOLLOW, 0600, fsynced), hashing on the way.
    ///
    /// A download that fails removes the local file it created; one that returns is on disk.
    public func download(_ path: String, to localPath: String) async throws(RemoteFileError) -> (bytes: Int64, sha256: String) {
        let key = try key(path)
        let digest = RunningDigest()
        let bytes = try await run("downloading", key, shownAs: " to \(localPath)") { connection, flag throws(S3Failure) -> Int64 in
            let local: LocalFile
            do throws(RemoteFileError) { local = try LocalFile.create(localPath) } catch { throw .complete(error) }
            var kept = false
            defer { if !kept { local.remove() } }
            let consumer: @Sendable (UnsafeRawBufferPointer) throws -> Void = { chunk in
                try local.write(chunk)
                digest.update(chunk)
            }
            let response = try connection.perform(S3Request(method: "GET", key: key, body: .download(consumer)), cancellation: flag)
            do throws(RemoteFileError) { try local.sync() } catch { throw .complete(error) }
            local.close()
            kept = true
            return response.bytes
        }
        return (bytes, digest.hex())
    }

    /// The names one level below `directory` ("" is the prefix itself): objects, and the
    /// "subdirectories" that keys with more '/' imply, without their trailing '/'. Sorted as S3
    /// sorts keys. An empty or missing directory is an empty list: S3 cannot tell them apart.
    public func list(_ directory: String) async throws(RemoteFileError) -> [String] {
        let base = try key(directory, allowsPrefix: true)
        let listed = base.isEmpty ? "" : base + "/"
        let entries = try await listKeys(under: listed, delimited: true, location: base)
        return entries.map { String($0.dropFirst(listed.count)) }.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    /// Removes an object; notFound when it is missing.
    ///
    /// S3 answers a DELETE of a missing key with success, so a HEAD asks first: callers written
    /// for SFTP see the same notFound. An object that disappears between the two is not an error.
    public func remove(_ path: String) async throws(RemoteFileError) {
        let key = try key(path)
        _ = try await perform(S3Request(method: "HEAD", key: key, body: .none), "removing", key)
        _ = try await perform(S3Request(method: "DELETE", key: key, body: .collect), "removing", key)
    }

    /// Removes every object under `directory` (at any depth); fine if there is none.
    public func removeTree(_ directory: String) async throws(RemoteFileError) {
        let base = try key(directory, allowsPrefix: true)
        let keys = try await listKeys(under: base.isEmpty ? "" : base + "/", delimited: false, location: base)
        for key in keys {
            _ = try await perform(S3Request(method: "DELETE", key: key, body: .collect), "removing", key)
        }
    }

    /// The keys (relative to the endpoint's prefix) of multipart uploads begun and neither
    /// completed nor aborted under `directory`; S3 bills their parts until they are aborted.
    public func incompleteUploads(under directory: String = "") async throws(RemoteFileError) -> [String] {
        let prefixLength = endpoint.prefix.isEmpty ? 0 : endpoint.prefix.count + 1
        return try await openUploads(under: directory).map { String($0.key.dropFirst(prefixLength)) }
    }

    /// Aborts the multipart uploads left open under `directory` (by a process killed in the
    /// middle of one: its parts are billed until then); returns how many.
    @discardableResult
    public func abortIncompleteUploads(under directory: String) async throws(RemoteFileError) -> Int {
        let uploads = try await openUploads(under: directory)
        for upload in uploads {
            _ = try await perform(S3Request(method: "DELETE", key: upload.key, query: [("uploadId", upload.id)], body: .collect), "aborting the upload of", upload.key)
        }
        return uploads.count
    }

    /// Open multipart uploads under `directory`: full keys and upload ids, the first 1000 (one
    /// listing page; a copy has a handful of files).
    private func openUploads(under directory: String) async throws(RemoteFileError) -> [(key: String, id: String)] {
        let base = try key(directory, allowsPrefix: true)
        let request = S3Request(method: "GET", key: "", query: [("prefix", base.isEmpty ? "" : base + "/"), ("uploads", "")], body: .collect)
        let text = try await perform(request, "listing the incomplete uploads under", base).text
        return S3XML.elements("Upload", in: text).compactMap { upload in
            guard let key = S3XML.text("Key", in: upload), let id = S3XML.text("UploadId", in: upload) else { return nil }
            return (key, id)
        }
    }

    // MARK: - Plumbing

    /// One PUT, or a multipart upload whose parts each stream `partSize` bytes from the source.
    private func send(
        _ source: S3UploadSource, key: String, maxBytesPerSecond: Int64?, progress: (@Sendable (Int64) -> Void)?,
        _ connection: S3Connection, _ flag: CancellationFlag
    ) throws(S3Failure) -> Int64 {
        guard source.size > endpoint.partSize else {
            let request = S3Request(method: "PUT", key: key, body: .upload(source, length: source.size), maxSendBytesPerSecond: maxBytesPerSecond, progress: progress)
            return try connection.perform(request, cancellation: flag).bytes
        }
        let created = try connection.perform(S3Request(method: "POST", key: key, query: [("uploads", "")], body: .collect), cancellation: flag)
        guard let uploadId = S3XML.text("UploadId", in: created.text), !uploadId.isEmpty else {
            throw .malformed("CreateMultipartUpload answered no UploadId")
        }
        do throws(S3Failure) {
            var etags: [String] = []
            var sent: Int64 = 0
            while sent < source.size {
                let length = min(endpoint.partSize, source.size - sent)
                let part = S3Request(
                    method: "PUT", key: key, query: [("partNumber", String(etags.count + 1)), ("uploadId", uploadId)],
                    body: .upload(source, length: length), maxSendBytesPerSecond: maxBytesPerSecond, progress: progress, progressBase: sent
                )
                let response = try connection.perform(part, cancellation: flag)
                guard let etag = response.headers["etag"], !etag.isEmpty else { throw .malformed("UploadPart answered no ETag") }
                etags.append(etag)
                sent += length
            }
            let parts = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(S3XML.escaped($0.element))</ETag></Part>" }
            let document = "<CompleteMultipartUpload>" + parts.joined() + "</CompleteMultipartUpload>"
            let body = S3UploadSource(bytes: Array(document.utf8))
            let completed = try connection.perform(
                S3Request(method: "POST", key: key, query: [("uploadId", uploadId)], body: .upload(body, length: body.size)), cancellation: flag
            )
            // S3 may report a failed completion inside a 200 answer.
            if completed.text.contains("<Error>") {
                throw S3Transfer.statusFailure(S3Response(status: 500, body: completed.body))
            }
            return sent
        } catch {
            // Best effort: parts left behind are billed until aborted. A cancelled call still
            // aborts, with a fresh flag.
            _ = try? connection.perform(S3Request(method: "DELETE", key: key, query: [("uploadId", uploadId)], body: .collect), cancellation: CancellationFlag())
            throw error
        }
    }

    /// Every key under `prefix` (S3 keys, with the endpoint's prefix), and with `delimited` the
    /// common prefixes one level down, following continuation tokens.
    private func listKeys(under prefix: String, delimited: Bool, location: String) async throws(RemoteFileError) -> [String] {
        var keys: [String] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(listPageSize))]
            if delimited { query.append(("delimiter", "/")) }
            if let token { query.append(("continuation-token", token)) }
            let text = try await perform(S3Request(method: "GET", key: "", query: query, body: .collect), "listing", location).text
            for contents in S3XML.elements("Contents", in: text) {
                guard let key = S3XML.text("Key", in: contents) else { throw malformed("listing", location, "a key that cannot be read") }
                keys.append(key)
            }
            for common in S3XML.elements("CommonPrefixes", in: text) {
                guard let key = S3XML.text("Prefix", in: common) else { throw malformed("listing", location, "a prefix that cannot be read") }
                keys.append(key)
            }
            token = nil
            if S3XML.text("IsTruncated", in: text) == "true" {
                guard let next = S3XML.text("NextContinuationToken", in: text), !next.isEmpty else {
                    throw malformed("listing", location, "a truncated listing without a continuation token")
                }
                token = next
            }
        } while token != nil
        return keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    private func malformed(_ action: String, _ key: String, _ what: String) -> RemoteFileError {
        RemoteFileError(.malformed(what), action: action, location: endpoint.location(ofKey: key), endpoint: endpoint)
    }

    private func key(_ path: String, allowsPrefix: Bool = false) throws(RemoteFileError) -> String {
        try S3Key.key(path, prefix: endpoint.prefix, allowsPrefix: allowsPrefix)
    }

    private func checkRate(_ maxBytesPerSecond: Int64?, _ action: String, _ key: String) throws(RemoteFileError) {
        if let maxBytesPerSecond, maxBytesPerSecond <= 0 {
            throw RemoteFileError(.other, "\(action) \(endpoint.location(ofKey: key)) failed: the rate limit must be positive")
        }
    }

    private func perform(_ request: S3Request, _ action: String, _ key: String) async throws(RemoteFileError) -> S3Response {
        try await run(action, key) { connection, flag throws(S3Failure) in try connection.perform(request, cancellation: flag) }
    }

    private func run<T: Sendable>(
        _ action: String, _ key: String, shownAs suffix: String = "",
        _ work: @escaping @Sendable (S3Connection, CancellationFlag) throws(S3Failure) -> T
    ) async throws(RemoteFileError) -> T {
        let shown = endpoint.location(ofKey: key) + suffix
        let endpoint = endpoint
        func failure(_ failure: S3Failure) -> RemoteFileError {
            RemoteFileError(failure, action: action, location: shown, endpoint: endpoint)
        }
        switch await calls.run(refused: { $0 == .closed ? S3Failure.closed : .cancelled }, work) {
        case .success(let value): return value
        case .failure(let error): throw failure(error)
        }
    }
}
