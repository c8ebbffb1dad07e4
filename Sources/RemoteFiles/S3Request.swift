import CurlSupport

/// One HTTP request to the bucket: method, object key, query and what moves.
struct S3Request: @unchecked Sendable {
    // @unchecked: an upload source is used only by the one thread running the transfer.
    enum Body {
        /// No body either way (HEAD: CURLOPT_NOBODY).
        case none
        /// The answer's body kept in memory: small XML answers (listings, upload ids).
        case collect
        /// The answer's body, chunk by chunk, to a consumer on the transfer's thread.
        case download(@Sendable (UnsafeRawBufferPointer) throws -> Void)
        /// `length` bytes taken from `source`.
        case upload(S3UploadSource, length: Int64)
    }

    var method: String
    /// The unencoded object key; "" for the bucket.
    var key: String
    var query: [(String, String)] = []
    var body: Body
    var maxSendBytesPerSecond: Int64?
    /// Bytes sent so far, `progressBase` added (the parts before this one).
    var progress: (@Sendable (Int64) -> Void)?
    var progressBase: Int64 = 0
}

/// What came back: the status, the headers (names lowercased) and, for `.collect` or an error
/// status, the body.
struct S3Response: Sendable {
    var status = 0
    var headers: [String: String] = [:]
    var body: [UInt8] = []
    /// Bytes handed to the consumer or taken from the upload source.
    var bytes: Int64 = 0

    var text: Substring { Substring(decoding: body, as: UTF8.self) }
}

/// How a request failed, before it is put in an operator's words.
enum S3Failure: Error, Sendable {
    /// libcurl's error; `reachedServer` when the connection was set up before it failed.
    case curl(CurlError, reachedServer: Bool)
    /// The server answered with an error status; `code` and `message` from its XML body.
    case status(Int, code: String?, message: String?)
    /// A failure with its message complete already (local files, a consumer's or producer's own error).
    case complete(RemoteFileError)
    /// A consumer or producer threw something else, or a stream broke its announced size.
    case consumer(String)
    /// The answer is not what S3 answers (no upload id, no ETag...).
    case malformed(String)
    case cancelled
    case closed
}
