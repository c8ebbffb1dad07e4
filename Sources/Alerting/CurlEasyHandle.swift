import CCurl
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

/// A `CURL *`.
///
/// `@unchecked Sendable` because it is only an address: the handle is used solely while holding
/// its owner's lock, by one thread at a time, as libcurl requires.
struct CurlPointer: @unchecked Sendable, Equatable {
    let pointer: UnsafeMutableRawPointer
    init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
}

/// Raised from any task to stop a running transfer; libcurl's progress callback reads it.
final class CancellationFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    func raise() { raised.store(true, ordering: .relaxed) }
    var isRaised: Bool { raised.load(ordering: .relaxed) }
}
