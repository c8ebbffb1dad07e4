import CCurl
import CurlSupport
import Synchronization

/// A session's libcurl easy handle, and with it the SSH connection it keeps alive between
/// transfers (libcurl's connection cache survives `curl_easy_reset`).
///
/// `perform` blocks; `SFTPSession` calls it only from its serial queue, one call at a time. The
/// handle lives behind a `Mutex` so that `close()` is safe from any thread and idempotent.
final class SFTPConnection: Sendable {
    private let handle: Mutex<CurlPointer?>
    let endpoint: SFTPEndpoint

    init(endpoint: SFTPEndpoint) throws(CurlError) {
        try CurlLibrary.ensureInitialized()
        guard let pointer = curl_easy_init() else {
            throw CurlError(code: Int(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init failed (out of memory?)")
        }
        handle = Mutex(CurlPointer(pointer))
        self.endpoint = endpoint
    }

    deinit { close() }

    /// Ends the SSH session (libcurl says goodbye to the server) and frees the handle.
    func close() {
        handle.withLock { pointer in
            if let pointer { curl_easy_cleanup(pointer.pointer) }
            pointer = nil
        }
    }

    /// Runs one transfer to the end, or until `cancellation` is raised.
    func perform(_ request: SFTPRequest, cancellation: CancellationFlag) throws(SFTPFailure) -> SFTPOutcome {
        try handle.withLock { (pointer: inout CurlPointer?) throws(SFTPFailure) -> SFTPOutcome in
            guard let pointer else { throw .closed }
            curl_easy_reset(pointer.pointer)
            return try SFTPTransfer(handle: pointer.pointer, endpoint: endpoint, request: request, cancellation: cancellation).run()
        }
    }
}
