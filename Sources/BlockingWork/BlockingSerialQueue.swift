import Synchronization

/// Runs the blocking calls made on something that allows one caller at a time (a `PGconn` is
/// not thread-safe) one after another, in the order they were made, on a lane of an executor.
///
/// It has no thread of its own, and a call waiting for its turn holds none: only the call at the
/// front goes to the executor. Calls queued meanwhile run on the same thread right after it, so
/// a connection never goes back through its lane between two calls and a query costs one
/// hand-over to a thread, as on a serial dispatch queue. Its `run` methods are `@inlinable`: they
/// are on every query's path, and unspecialised generic code there costs runtime metadata
/// look-ups per call.
public final class BlockingSerialQueue: Sendable {
    /// Makes the call and returns how to resume its caller.
    @usableFromInline typealias Call = @Sendable () -> BlockingExecutor.Completion?

    private struct State {
        var waiting = WorkQueue<Call>()
        /// A call is running or handed to the executor; the rest wait here.
        var busy = false
    }

    public let executor: BlockingExecutor
    public let lane: BlockingExecutor.Lane
    private let state = Mutex(State())

    public init(executor: BlockingExecutor = .shared, lane: BlockingExecutor.Lane = .jobs) {
        self.executor = executor
        self.lane = lane
    }

    /// Runs `work` once every call made before it has returned, and returns what it returned or threw.
    @inlinable
    public func run<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, E>, Never>) in
            enqueue {
                let result = Result { () throws(E) -> T in try work() }
                return { continuation.resume(returning: result) }
            }
        }
        return try result.get()
    }

    /// Runs `work` like `run`, for a call its task may give up on. Cancelled while the call still
    /// waits for its turn (behind earlier calls, or for a thread of a full lane), the call is
    /// dropped and this returns nil at once: started later, it would run with nobody left to stop
    /// it. Cancelled once it runs, `onCancel` is called to interrupt it. A task that is cancelled
    /// already when it calls gets `onCancel` and then the call, as by `run`, so cleanup after a
    /// cancel (a ROLLBACK) still gets through.
    @inlinable
    public func run<T: Sendable, E: Error>(
        cancellable work: @escaping @Sendable () throws(E) -> T, onCancel: @escaping @Sendable () -> Void
    ) async throws(E) -> T? {
        if Task.isCancelled {
            onCancel()
            return try await run(work)
        }
        let pending = PendingCall()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (caller: CheckedContinuation<Result<T, E>?, Never>) in
                guard pending.wait(resumeEmpty: { caller.resume(returning: nil) }) else { return }
                enqueue {
                    guard pending.start() else { return nil }
                    let result = Result { () throws(E) -> T in try work() }
                    return { caller.resume(returning: result) }
                }
            }
        } onCancel: {
            if !pending.drop() { onCancel() }
        }
        return try result?.get()
    }

    /// Queues `work` behind every call made before it and returns at once.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        enqueue {
            work()
            return nil
        }
    }

    @usableFromInline
    func enqueue(_ call: @escaping Call) {
        let first = state.withLock { state -> Bool in
            guard !state.busy else {
                state.waiting.append(call)
                return false
            }
            state.busy = true
            return true
        }
        if first {
            executor.execute(lane, returningCompletion: { [self] in drain(startingWith: call) })
        }
    }

    /// Runs calls until none is waiting. The last caller resumes only once the thread is free
    /// (see `BlockingExecutor.Completion`), so its next call finds the thread idle.
    private func drain(startingWith first: @escaping Call) -> BlockingExecutor.Completion? {
        var call = first
        while true {
            let completion = call()
            let next = state.withLock { state -> Call? in
                if let next = state.waiting.popFirst() { return next }
                state.busy = false
                return nil
            }
            guard let next else { return completion }
            completion?()
            call = next
        }
    }
}
