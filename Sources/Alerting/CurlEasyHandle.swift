import CCurl
import CurlSupport
import Synchronization

/// One libcurl easy handle.
///
/// `perform` blocks: it is only called from `CurlTransport`'s dedicated queue, never from
/// Swift's cooperative pool. The handle lives behind a `Mutex`, so `close()` is safe from any
/// thread, idempotent, and waits for a running transfer to finish (cancel it first with the
/// `CancellationFlag` it was given).
final class CurlEasyHandle: Sendable {
    private let handle: Mutex<CurlPointer?>

    init() throws(CurlError) {
        try CurlLibrary.ensureInitialized()
        guard let pointer = curl_easy_init() else {
            throw CurlError(code: Int(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init failed (out of memory?)")
        }
        handle = Mutex(CurlPointer(pointer))
    }

    deinit { close() }

    func close() {
        handle.withLock { pointer in
            if let pointer { curl_easy_cleanup(pointer.pointer) }
            pointer = nil
        }
    }

    var isClosed: Bool { handle.withLock { $0 == nil } }

    /// Runs one transfer to the end, or until `cancellation` is raised.
    func perform(_ request: CurlRequest, cancellation: CancellationFlag) throws(CurlError) -> CurlResponse {
        try handle.withLock { (pointer: inout CurlPointer?) throws(CurlError) -> CurlResponse in
            guard let pointer else {
                throw CurlError(code: Int(CURLE_FAILED_INIT.rawValue), message: "the transfer handle is closed")
            }
            curl_easy_reset(pointer.pointer)
            return try CurlTransfer(handle: pointer.pointer, request: request, cancellation: cancellation).run()
        }
    }
}
