/// Where off-site copies go on S3 or an S3-compatible server: the server, the region and
/// bucket, a prefix inside the bucket, and the access key to sign requests with.
///
/// The secret access key is never printed: `description`, `debugDescription` and the mirror
/// show the server, bucket and prefix only.
public struct S3Endpoint: Sendable, Equatable, CustomStringConvertible {
    /// "http(s)://host[:port]" without a trailing slash or path.
    public let url: String
    public let region: String
    public let bucket: String
    /// The "directory" inside the bucket that every path is relative to, without leading or
    /// trailing '/'; "" for the whole bucket.
    public let prefix: String
    public let accessKeyId: String
    public let secretAccessKey: String
    /// "https://host/bucket/key" instead of "https://bucket.host/key". Most S3-compatible
    /// servers only know the path style; AWS knows both.
    public var pathStyle = true
    /// Objects larger than this are sent as a multipart upload with parts of this size. S3
    /// refuses parts under 5 MiB (but the last) and allows 10,000 parts per object.
    public private(set) var partSize: Int64 = 64 * 1024 * 1024
    /// How long setting up the TCP (and TLS) connection may take.
    public var connectTimeout: Duration = .seconds(20)
    /// A transfer that moves no byte for this long is given up (interrupted).
    public var stallTimeout: Duration = .seconds(60)
    /// A PEM file of the certificate authorities that may sign an https server's certificate, in
    /// place of the system's: for a private S3-compatible server with its own CA. nil: the system's.
    public var caFile: String?

    public static let minimumPartSize: Int64 = 5 * 1024 * 1024

    public init(
        url: String, region: String, bucket: String, prefix: String = "", accessKeyId: String, secretAccessKey: String,
        partSize: Int64 = 64 * 1024 * 1024
    ) throws(RemoteFileError) {
        self.url = try Self.checkedURL(url)
        guard !region.isEmpty, region.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw Self.invalid("the region \"\(region)\" is not a region name (e.g. eu-central-1)")
        }
        self.region = region
        guard Self.isValidBucketName(bucket) else {
            throw Self.invalid("the bucket name \"\(bucket)\" is not valid: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit")
        }
        self.bucket = bucket
        var trimmed = Substring(prefix)
        while trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        do {
            _ = try RemotePath(String(trimmed), base: "", allowsBase: true)
        } catch {
            throw Self.invalid("the prefix \"\(prefix)\" is not usable: \(error.message)")
        }
        self.prefix = String(trimmed)
        // Checked for presence only: what a key looks like is up to the server.
        guard !accessKeyId.isEmpty else { throw Self.invalid("no access key id given") }
        guard !secretAccessKey.isEmpty else { throw Self.invalid("no secret access key given") }
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        try setPartSize(partSize)
    }

    public mutating func setPartSize(_ size: Int64) throws(RemoteFileError) {
        guard size >= Self.minimumPartSize else {
            throw Self.invalid("the part size \(size) is below S3's minimum of 5 MiB (\(Self.minimumPartSize) bytes)")
        }
        partSize = size
    }

    /// "s3://bucket/prefix at https://host": never a secret.
    public var description: String { "s3://\(bucket)/\(prefix) at \(url)" }

    /// How messages show an object.
    func location(ofKey key: String) -> String { "s3://\(bucket)/\(key) at \(url)" }

    /// The URL of an object (or of the bucket for ""), its key %-encoded as SigV4 signs it.
    func objectURL(key: String, query: String = "") -> String {
        let path = S3Key.encoded(key)
        let base: String
        if pathStyle {
            base = "\(url)/\(bucket)/\(path)"
        } else {
            let schemeEnd = url.range(of: "://")!.upperBound
            base = url[..<schemeEnd] + bucket + "." + url[schemeEnd...] + "/" + path
        }
        return query.isEmpty ? base : base + "?" + query
    }

    static func isValidBucketName(_ name: String) -> Bool {
        guard (3...63).contains(name.count) else { return false }
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "." || $0 == "-") }
        guard allowed, let first = name.first, let last = name.last else { return false }
        return (first.isLetter || first.isNumber) && (last.isLetter || last.isNumber) && !name.contains("..")
    }

    private static func checkedURL(_ text: String) throws(RemoteFileError) -> String {
        var url = text
        while url.hasSuffix("/") { url.removeLast() }
        let lower = url.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lower.hasPrefix($0) }) else {
            throw invalid("the URL \"\(text)\" must start with http:// or https://")
        }
        let authority = url.dropFirst(scheme.count)
        // Credentials go in access_key_id/secret_access_key, never in a URL that gets logged.
        guard !authority.isEmpty, !authority.contains("@") else {
            throw invalid("the URL must be http(s)://host[:port], without a user or password")
        }
        guard !authority.contains(where: { "/?#".contains($0) }), authority.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw invalid("the URL must be http(s)://host[:port], without a path: the bucket and prefix are set apart")
        }
        return scheme + authority
    }

    static func invalid(_ reason: String) -> RemoteFileError {
        RemoteFileError(.invalidEndpoint, "invalid S3 endpoint: \(reason)")
    }
}

/// `dump`, `debugPrint` and collections print an endpoint through these: the secret stays hidden there too.
extension S3Endpoint: CustomDebugStringConvertible, CustomReflectable {
    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "url": url, "region": region, "bucket": bucket, "prefix": prefix, "accessKeyId": "[redacted]",
            "secretAccessKey": "[redacted]", "pathStyle": pathStyle, "partSize": partSize,
        ])
    }
}
