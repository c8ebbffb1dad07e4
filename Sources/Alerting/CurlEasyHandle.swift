import CCurl
import CurlSupport

/// One libcurl handle (`CurlHandle`) running alert transfers.
///
/// `perform` blocks: it is only called from `CurlTransport`'s dedicated queue, never from
/// Swift's cooperative pool. `close()` is safe from any thread, idempotent, and waits for a
/// running transfer to finish (cancel it first with the `CancellationFlag` it was given).
final class CurlEasyHandle: Sendable {
    private let handle: CurlHandle

    init() throws(CurlError) { handle = try CurlHandle() }

    func close() { handle.close() }

    var isClosed: Bool { handle.isClosed }

    /// Runs one transfer to the end, or until `cancellation` is raised.
    func perform(_ request: CurlRequest, cancellation: CancellationFlag) throws(CurlError) -> CurlResponse {
        try handle.withResetHandle(orElse: { CurlError(code: Int(CURLE_FAILED_INIT.rawValue), message: "the transfer handle is closed") }) { pointer throws(CurlError) in
            try CurlTransfer(handle: pointer.pointer, request: request, cancellation: cancellation).run()
        }
    }
}
