import Foundation
import Synchronization

/// Sends one connection's cancel requests without ever making the caller wait.
///
/// `PQcancel` blocks until the server answers, for as long as TCP allows when it cannot be
/// reached; its callers (task cancellation, a worker's heartbeat, timeout and grace loops) must
/// go on meanwhile. So requests are sent from a thread of their own: not the cooperative pool,
/// not the connection's calls, which are busy with the statement being cancelled, and
/// deliberately not the `BlockingExecutor` either: a cancel is what frees a lane whose every
/// thread is blocked in a statement, so it must never wait for one of them. (libpq 15 has no
/// non-blocking `PQcancelStart`/`PQcancelPoll`; with 17 this thread could go.)
/// At most one such thread per connection: requests made while one is being sent are folded
/// into one more request, sent after it returns, so a stuck server does not pile up threads
/// and a request made after a send began is not lost.
final class CancelSender: Sendable {
    private struct State {
        /// nil once the connection is closed: nothing more is sent.
        var key: CancelKey?
        var sending = false
        var again = false
    }

    private let state: Mutex<State>

    init(key: CancelKey?) {
        state = Mutex(State(key: key))
    }

    /// Returns at once; the request is sent from the sending thread.
    func request() {
        let start = state.withLock { state -> CancelKey? in
            guard let key = state.key else { return nil }
            guard !state.sending else {
                state.again = true
                return nil
            }
            state.sending = true
            return key
        }
        guard let start else { return }
        // The thread holds the key, so closing the connection meanwhile cannot free the
        // `PGcancel` under `PQcancel`.
        Thread.detachNewThread { [self] in
            var key = start
            while true {
                key.send()
                guard let next = nextKey() else { return }
                key = next
            }
        }
    }

    /// Stops further requests. A send under way ends on its own thread.
    func close() {
        state.withLock { state in
            state.key = nil
            state.again = false
        }
    }

    private func nextKey() -> CancelKey? {
        state.withLock { state -> CancelKey? in
            guard state.again, let key = state.key else {
                state.sending = false
                state.again = false
                return nil
            }
            state.again = false
            return key
        }
    }
}
