import Backups
import Database
import Logging
import PostgresClient
import Queue
import Settings
import Support
import Synchronization

/// Runs one claimed job: finds its kind, enforces its timeout, turns what happened into a
/// `JobOutcome` (retry with backoff, final failure, cancel, release) and keeps its log tail.
package struct JobExecutor: Sendable {
    let registry: JobKindRegistry
    let configuration: Configuration
    let connector: DatabaseConnector
    let running: RunningJobs
    let retryBackoff: Backoff
    let archiver: ArchiveRunner
    let logger: Logger
    /// The worker's host: follow-up jobs of per-host kinds go to its queue.
    let hostName: String
    /// Tells the worker's timeout watch that a job with a deadline started.
    let jobStarted: @Sendable () -> Void

    func run(_ job: ClaimedJob, recorder: OutcomeRecorder) async -> (outcome: JobOutcome, logTail: String?) {
        let tail = LogTail()
        var upstream = logger
        upstream[metadataKey: "job.id"] = "\(job.id)"
        upstream[metadataKey: "job.kind"] = "\(job.kind)"
        upstream[metadataKey: "job.attempt"] = "\(job.attempt)"
        let jobLogger = Logger(label: logger.label) { _ in JobLogHandler(upstream: upstream, tail: tail) }

        guard let kind = registry.kind(named: job.kind) else {
            _ = running.remove(job.id)
            let message = "this worker does not know job kind \(job.kind.debugDescription) (known: \(registry.names.joined(separator: ", "))); upgrade the worker"
            jobLogger.error("unknown kind")
            return (.failed(error: message, retryAfter: nil), tail.text)
        }
        let context = JobContext(
            logger: jobLogger, configuration: configuration, connector: connector, archiver: archiver, preparer: registry, hostName: hostName
        ) { pid in
            recorder.recordBackendPID(pid, runID: job.runID)
        }

        // A job claimed ahead of a free slot may have been cancelled, or the worker may be
        // stopping, while it waited: then it does not start at all.
        let handle = WorkHandle()
        if let reason = running.start(job.id, deadline: .now + .seconds(job.timeoutSeconds), stop: { handle.cancel() }) {
            _ = running.remove(job.id)
            return (classify(.failure(CancellationError()), stopReason: reason, job: job), nil)
        }
        jobLogger.info("job started", metadata: ["job.target": "\(job.target ?? "-")"])
        let work = Task { try await kind.run(job, context: context) }
        handle.attach(work)
        jobStarted()
        let result = await withTaskCancellationHandler {
            await work.result
        } onCancel: {
            running.stop(job.id, reason: .shutdown)
        }
        let stopReason = running.remove(job.id)
        let outcome = classify(result.map(context.serverWarnings.added), stopReason: stopReason, job: job)
        switch outcome {
        case .succeeded: jobLogger.info("job succeeded")
        case .failed(let error, let retry, _), .timedOut(let error, let retry):
            jobLogger.warning("job failed", metadata: ["error": "\(error)", "retry.in_s": "\(retry.map { "\(Int($0.seconds))" } ?? "none")"])
        case .cancelled: jobLogger.notice("job cancelled")
        case .released(let reason): jobLogger.notice("job released", metadata: ["reason": "\(reason)"])
        }
        return (outcome, tail.text)
    }

    private func classify(_ result: Result<[String: JSONValue], any Error>, stopReason: RunningJobs.StopReason?, job: ClaimedJob) -> JobOutcome {
        switch (result, stopReason) {
        case (.success(let value), _):
            return .succeeded(result: value)
        case (.failure, .cancelRequested?):
            return .cancelled
        case (.failure, .shutdown?):
            return .released(reason: "worker shutting down; job released for another attempt")
        case (.failure, .leaseLost?):
            return .released(reason: "lease lost (database unreachable longer than the lease)")
        case (.failure, .timeout?):
            let message = "timed out after \(job.timeoutSeconds) s"
            return .timedOut(error: message, retryAfter: job.isLastAttempt ? nil : retryBackoff.delay(attempt: job.attempt))
        case (.failure(let error), nil):
            let permanent = registry.isPermanent(error)
            let retry = permanent || job.isLastAttempt ? nil : retryBackoff.delay(attempt: job.attempt)
            return .failed(error: Self.describe(error), retryAfter: retry, result: (error as? JobFailure)?.result)
        }
    }

    package static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        return text.count > 2000 ? String(text.prefix(2000)) + "…" : text
    }
}

/// The task of a running job, which a stop request may reach before the task exists.
private final class WorkHandle: Sendable {
    private let state = Mutex<(task: Task<[String: JSONValue], any Error>?, cancelled: Bool)>((nil, false))

    func attach(_ task: Task<[String: JSONValue], any Error>) {
        let cancelNow = state.withLock { state -> Bool in
            state.task = task
            return state.cancelled
        }
        if cancelNow { task.cancel() }
    }

    func cancel() {
        let task = state.withLock { state -> Task<[String: JSONValue], any Error>? in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
    }
}
