import Logging
import PostgresClient
import Queue
import Support
import Synchronization

/// Writes what slots report — job outcomes and the backend PIDs of running jobs — on a
/// connection of its own. Whatever arrives while a write is in flight goes out together in the
/// next one, so under load many outcomes share a statement, and an idle worker writes at once.
///
/// Outcomes held here are lost only if the process dies; their jobs then still hold this
/// worker's lease, so the reaper requeues them like any job of a dead worker.
final class OutcomeRecorder: Sendable {
    private struct State {
        var completions: [JobQueue.Completion] = []
        var backendPIDs: [(runID: Int64, pid: Int32)] = []
        var flushing = false
        var closed = false
        var wakeup: CheckedContinuation<Void, Never>?

        var hasWork: Bool { !completions.isEmpty || !backendPIDs.isEmpty }
    }

    /// Most outcomes written by one statement.
    static let maxBatch = 500

    private let state = Mutex(State())
    private let connection: ConnectionHolder
    private let worker: WorkerIdentity
    private let logger: Logger
    /// Rung after every write, so a dispatcher waiting on a freed concurrency key looks again.
    private let onWritten: @Sendable () -> Void

    init(connection: ConnectionHolder, worker: WorkerIdentity, logger: Logger, onWritten: @escaping @Sendable () -> Void) {
        self.connection = connection
        self.worker = worker
        self.logger = logger
        self.onWritten = onWritten
    }

    func record(_ completion: JobQueue.Completion) {
        enqueue { $0.completions.append(completion) }
    }

    func recordBackendPID(_ pid: Int32, runID: Int64) {
        enqueue { $0.backendPIDs.append((runID, pid)) }
    }

    /// True when nothing is waiting to be written or being written.
    var isIdle: Bool { state.withLock { !$0.hasWork && !$0.flushing } }

    /// No more input: `run()` writes what it holds and returns.
    func close() {
        let wakeup = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.wakeup = nil }
            return state.wakeup
        }
        wakeup?.resume()
    }

    private func enqueue(_ change: (inout State) -> Void) {
        let wakeup = state.withLock { state -> CheckedContinuation<Void, Never>? in
            change(&state)
            defer { state.wakeup = nil }
            return state.wakeup
        }
        wakeup?.resume()
    }

    /// The writing loop; returns after `close()` once everything is written.
    func run() async {
        while true {
            let batch = await nextBatch()
            guard let (completions, pids) = batch else { return }
            await write(completions, pids)
            state.withLock { $0.flushing = false }
            onWritten()
        }
    }

    private func nextBatch() async -> ([JobQueue.Completion], [(runID: Int64, pid: Int32)])? {
        while true {
            let taken = state.withLock { state -> ([JobQueue.Completion], [(runID: Int64, pid: Int32)])?? in
                if state.hasWork {
                    // Bounded, so one write stays short however far behind the database fell.
                    let completions = Array(state.completions.prefix(Self.maxBatch))
                    state.completions.removeFirst(completions.count)
                    defer {
                        state.backendPIDs.removeAll(keepingCapacity: true)
                        state.flushing = true
                    }
                    return .some((completions, state.backendPIDs))
                }
                return state.closed ? .some(nil) : nil
            }
            if let taken { return taken }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.hasWork || state.closed { return true }
                    state.wakeup = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Writes one batch, retrying through connection loss: the jobs are ours until our lease
    /// expires, and the guarded update changes nothing if the reaper took one meanwhile.
    private func write(_ completions: [JobQueue.Completion], _ pids: [(runID: Int64, pid: Int32)]) async {
        for (runID, pid) in pids {
            do {
                try await connection.use { try await JobQueue.recordBackendPID(pid, runID: runID, on: $0) }
            } catch {
                logger.debug("could not record backend pid", metadata: ["run.id": "\(runID)", "error": "\(error)"])
            }
        }
        guard !completions.isEmpty else { return }
        let backoff = Backoff(base: .milliseconds(200), cap: .seconds(5))
        var attempt = 0
        while true {
            do {
                let recorded = try await connection.use { try await JobQueue.finish(completions, worker: worker, on: $0) }
                for completion in completions where !recorded.contains(completion.job.id) {
                    logger.warning("job was taken over after our lease expired; outcome not recorded", metadata: ["job.id": "\(completion.job.id)"])
                }
                return
            } catch {
                attempt += 1
                logger.log(level: attempt == 1 ? .warning : .debug, "cannot record job outcomes yet; retrying", metadata: [
                    "jobs": "\(completions.map(\.job.id))", "error": "\(error)",
                ])
                // Give up only if the process is being torn down; the reaper then requeues the jobs.
                if Task.isCancelled { return }
                try? await Task.sleep(for: backoff.delay(attempt: attempt))
            }
        }
    }
}
