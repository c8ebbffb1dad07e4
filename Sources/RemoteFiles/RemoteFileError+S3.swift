import CCurl
import CurlSupport

extension RemoteFileError {
    /// Puts a failed S3 request in an operator's words: `action` ("uploading /tmp/x to"),
    /// `location` (the object as `s3://bucket/key at https://host`), the cause and the fix.
    /// A server may quote the access key id in its error text: both keys are removed from
    /// every message.
    init(_ failure: S3Failure, action: String, location: String, endpoint: S3Endpoint) {
        let (kind, message) = Self.describe(failure, action: action, location: location, endpoint: endpoint)
        let redacted = Self.redacting(endpoint.accessKeyId, in: Self.redacting(endpoint.secretAccessKey, in: message))
        self.init(kind, redacted)
    }

    private static func describe(_ failure: S3Failure, action: String, location: String, endpoint: S3Endpoint) -> (Kind, String) {
        let failed = "\(action) \(location) failed"
        switch failure {
        case .cancelled:
            return (.cancelled, "\(action) \(location) was cancelled")
        case .closed:
            return (.cancelled, "\(failed): the S3 session is closed")
        case .complete(let error):
            return (error.kind, error.kind == .localFile ? "\(failed): \(error.message)" : error.message)
        case .consumer(let description):
            return (.other, "\(action) \(location) stopped: \(description)")
        case .malformed(let description):
            return (.other, "\(failed): the server's answer is not what S3 answers: \(description)")
        case .status(let status, let code, let message):
            return describe(status: status, code: code, message: message, failed: failed, endpoint: endpoint)
        case .curl(let error, let reachedServer):
            switch CURLcode(UInt32(clamping: error.code)) {
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST:
                return (.unreachable, "\(failed): cannot reach the S3 server \(endpoint.url) (\(error)); check the URL and the network")
            case CURLE_OPERATION_TIMEDOUT where !reachedServer:
                return (.unreachable, "\(failed): the S3 server \(endpoint.url) did not answer in time (\(error))")
            case CURLE_OPERATION_TIMEDOUT:
                return (.interrupted, "\(failed): the transfer stalled (\(error))")
            case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_AGAIN, CURLE_SSL_CONNECT_ERROR:
                return (reachedServer ? .interrupted : .unreachable, "\(failed): the connection broke (\(error))")
            case CURLE_PEER_FAILED_VERIFICATION:
                return (.hostKeyMismatch, "\(failed): the server's TLS certificate is not trusted (\(error))")
            case CURLE_UNSUPPORTED_PROTOCOL, CURLE_NOT_BUILT_IN, CURLE_UNKNOWN_OPTION:
                return (.other, "\(failed): the linked libcurl (\(CurlLibrary.version)) cannot sign S3 requests (\(error)); it needs 7.75 or later")
            default:
                return (error.isTransient ? .interrupted : .other, "\(failed): \(error)")
            }
        }
    }

    private static func describe(status: Int, code: String?, message: String?, failed: String, endpoint: S3Endpoint) -> (Kind, String) {
        let said = [code, message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        let detail = "HTTP \(status)" + (said.isEmpty ? "" : ", " + said)
        switch (status, code ?? "") {
        case (_, "NoSuchBucket"):
            return (.notFound, "\(failed): the bucket \(endpoint.bucket) does not exist (\(detail))")
        case (404, _), (_, "NoSuchKey"), (_, "NoSuchUpload"):
            return (.notFound, "\(failed): no such object (\(detail))")
        case (_, "SignatureDoesNotMatch"), (_, "InvalidAccessKeyId"), (_, "AccessDenied"), (403, _), (401, _):
            return (.authenticationFailed, """
                \(failed): the server refused the request (\(detail)); check the access key id, the secret access \
                key and the region (\(endpoint.region)), and that the key may use bucket \(endpoint.bucket)
                """)
        case (500..<600, _), (_, "SlowDown"), (_, "RequestTimeout"), (_, "InternalError"), (429, _):
            return (.interrupted, "\(failed): the server could not serve the request now (\(detail))")
        default:
            return (.other, "\(failed): \(detail)")
        }
    }
}
