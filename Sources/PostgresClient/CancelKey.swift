import CLibPQ

/// A libpq `PGcancel`: the server's address and the session's secret key, copied out of the
/// connection once, when it opens, so a cancel never needs the `PGconn` (which the statement
/// being cancelled holds).
///
/// `@unchecked Sendable`: the pointer never changes and is freed only in `deinit`, when no
/// thread can hold the key any more; `PQcancel` only reads the object and libpq documents it
/// as safe to call from any thread.
final class CancelKey: @unchecked Sendable {
    private let pointer: OpaquePointer

    init?(connection: OpaquePointer) {
        guard let pointer = PQgetCancel(connection) else { return nil }
        self.pointer = pointer
    }

    deinit { PQfreeCancel(pointer) }

    /// Opens a new connection to the server and sends the request; blocks until the server has
    /// answered or the attempt failed. libpq 15 has no time limit for this of its own.
    func send() {
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(pointer, &buffer, Int32(buffer.count))
    }
}
