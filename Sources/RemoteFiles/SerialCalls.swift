import BlockingWork
import CurlSupport
import Synchronization

/// The calls of one remote session, on its one connection: they run one after another on a
/// `BlockingSerialQueue`, in the order they were made (libcurl allows one transfer at a time on
/// a handle), never on Swift's cooperative pool. A call whose task is cancelled while it waits for
/// its turn is dropped; the one running gets a `CancellationFlag`, raised when its task is
/// cancelled or the session closes, which libcurl's callbacks see.
final class SerialCalls<Connection: Sendable>: Sendable {
    /// Why a call never ran.
    enum Refusal { case closed, cancelled }

    private let connection: Connection
    private let queue: BlockingSerialQueue
    private let state = Mutex(State())

    private struct State {
        var closed = false
        /// The flag of the call running now, raised by `close`.
        var running: CancellationFlag?
    }

    init(connection: Connection, executor: BlockingExecutor) {
        self.connection = connection
        queue = BlockingSerialQueue(executor: executor, lane: .jobs)
    }

    /// Stops the call running now, refuses later ones, and runs `finish` on the connection once
    /// the queue gets to it; returns at once. Later calls of `close` do nothing.
    func close(finish: @escaping @Sendable (Connection) -> Void) {
        let first = state.withLock { state -> Bool in
            defer { state.closed = true }
            state.running?.raise()
            return !state.closed
        }
        guard first else { return }
        queue.execute { [connection] in finish(connection) }
    }

    /// Runs `work` in its turn; a call that never ran fails with `refused(why)`.
    func run<T: Sendable, F: Error>(
        refused: (Refusal) -> F, _ work: @escaping @Sendable (Connection, CancellationFlag) throws(F) -> T
    ) async -> Result<T, F> {
        if state.withLock({ $0.closed }) { return .failure(refused(.closed)) }
        if Task.isCancelled { return .failure(refused(.cancelled)) }
        let flag = CancellationFlag()
        let outcome: Result<T, F>?? = await queue.run(cancellable: { () -> Result<T, F>? in
            let open = self.state.withLock { state -> Bool in
                state.running = state.closed ? nil : flag
                return !state.closed
            }
            guard open else { return nil }
            defer { self.state.withLock { $0.running = nil } }
            return Result { () throws(F) -> T in try work(self.connection, flag) }
        }, onCancel: { flag.raise() })
        switch outcome {
        case nil: return .failure(refused(.cancelled))
        case .some(nil): return .failure(refused(.closed))
        case .some(.some(let result)): return result
        }
    }
}
