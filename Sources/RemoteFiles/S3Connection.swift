import CCurl
import CurlSupport
import Synchronization

/// A session's libcurl easy handle, and with it the HTTP connection it keeps alive between
/// requests (libcurl's connection cache survives `curl_easy_reset`).
///
/// `perform` blocks; `S3Session` calls it only from its serial queue, one call at a time. The
/// handle lives behind a `Mutex` so that `close()` is safe from any thread and idempotent.
final class S3Connection: Sendable {
    private let handle: Mutex<CurlPointer?>
    let endpoint: S3Endpoint

    init(endpoint: S3Endpoint) throws(CurlError) {
        try CurlLibrary.ensureInitialized()
        guard let pointer = curl_easy_init() else {
            throw CurlError(code: Int(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init failed (out of memory?)")
        }
        handle = Mutex(CurlPointer(pointer))
        self.endpoint = endpoint
    }

    deinit { close() }

    func close() {
        handle.withLock { pointer in
            if let pointer { curl_easy_cleanup(pointer.pointer) }
            pointer = nil
        }
    }

    /// Runs one request to the end, or until `cancellation` is raised.
    func perform(_ request: S3Request, cancellation: CancellationFlag) throws(S3Failure) -> S3Response {
        try handle.withLock { (pointer: inout CurlPointer?) throws(S3Failure) -> S3Response in
            guard let pointer else { throw .closed }
            curl_easy_reset(pointer.pointer)
            return try S3Transfer(handle: pointer.pointer, endpoint: endpoint, request: request, cancellation: cancellation).run()
        }
    }
}
