import CCurl
import Synchronization

/// One libcurl easy handle, and with it the connection libcurl keeps alive between transfers
/// (its connection cache survives `curl_easy_reset`).
///
/// Transfers block: callers run them from a queue or thread of their own, one at a time. The
/// handle lives behind a `Mutex`, so `close()` is safe from any thread, idempotent, and waits for
/// a running transfer to finish (cancel it first through its `CancellationFlag`).
public final class CurlHandle: Sendable {
    private let handle: Mutex<CurlPointer?>

    public init() throws(CurlError) {
        try CurlLibrary.ensureInitialized()
        guard let pointer = curl_easy_init() else {
            throw CurlError(code: Int(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init failed (out of memory?)")
        }
        handle = Mutex(CurlPointer(pointer))
    }

    deinit { close() }

    /// Frees the handle (an SSH connection says goodbye to its server); later transfers fail.
    public func close() {
        handle.withLock { pointer in
            if let pointer { curl_easy_cleanup(pointer.pointer) }
            pointer = nil
        }
    }

    public var isClosed: Bool { handle.withLock { $0 == nil } }

    /// Runs `transfer` on the handle reset to libcurl's defaults, holding it; throws `closed()`
    /// when the handle was closed first.
    public func withResetHandle<T: Sendable, F: Error>(
        orElse closed: () -> F, _ transfer: (CurlPointer) throws(F) -> T
    ) throws(F) -> T {
        try handle.withLock { (pointer: inout CurlPointer?) throws(F) -> T in
            guard let pointer else { throw closed() }
            curl_easy_reset(pointer.pointer)
            return try transfer(pointer)
        }
    }
}
