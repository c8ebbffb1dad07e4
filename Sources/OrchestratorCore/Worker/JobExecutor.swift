import Logging
import PostgresClient

/// Runs one claimed job: finds its kind, enforces its timeout, turns what happened into a
/// `JobOutcome` (retry with backoff, final failure, cancel, release) and keeps its log tail.
struct JobExecutor: Sendable {
    let registry: JobKindRegistry
    let configuration: Configuration
    let connector: DatabaseConnector
    let running: RunningJobs
    let retryBackoff: Backoff
    let logger: Logger

    func run(_ job: ClaimedJob, slot: ConnectionHolder) async -> (outcome: JobOutcome, logTail: String?) {
        let tail = LogTail()
        var upstream = logger
        upstream[metadataKey: "job.id"] = "\(job.id)"
        upstream[metadataKey: "job.kind"] = "\(job.kind)"
        upstream[metadataKey: "job.attempt"] = "\(job.attempt)"
        let jobLogger = Logger(label: logger.label) { _ in JobLogHandler(upstream: upstream, tail: tail) }

        guard let kind = registry.kind(named: job.kind) else {
            let message = "this worker does not know job kind \(job.kind.debugDescription) (known: \(registry.names.joined(separator: ", "))); upgrade the worker"
            jobLogger.error("unknown kind")
            return (.failed(error: message, retryAfter: nil), tail.text)
        }
        let context = JobContext(logger: jobLogger, configuration: configuration, connector: connector) { pid in
            do {
                try await slot.use { try await JobQueue.recordBackendPID(pid, runID: job.runID, on: $0) }
            } catch {
                jobLogger.debug("could not record backend pid", metadata: ["error": "\(error)"])
            }
        }

        jobLogger.info("job started", metadata: ["job.target": "\(job.target ?? "-")"])
        let work = Task { try await kind.run(job, context: context) }
        running.register(job.id) { work.cancel() }
        let deadline = Task {
            try await Task.sleep(for: .seconds(job.timeoutSeconds))
            running.stop(job.id, reason: .timeout)
        }
        let result = await withTaskCancellationHandler {
            await work.result
        } onCancel: {
            running.stop(job.id, reason: .shutdown)
        }
        deadline.cancel()
        let stopReason = running.remove(job.id)
        let outcome = classify(result, stopReason: stopReason, job: job)
        switch outcome {
        case .succeeded: jobLogger.info("job succeeded")
        case .failed(let error, let retry), .timedOut(let error, let retry):
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
            let permanent = Self.isPermanent(error)
            let retry = permanent || job.isLastAttempt ? nil : retryBackoff.delay(attempt: job.attempt)
            return .failed(error: Self.describe(error), retryAfter: retry)
        }
    }

    /// Errors that will fail again however often the job is retried.
    static func isPermanent(_ error: any Error) -> Bool {
        switch error {
        case is PermanentJobError, is JobValidationError:
            return true
        case let error as PostgresError:
            guard let state = error.sqlState else { return false }
            // 22 data exception, 28 authorization, 3D missing database, 42 syntax/undefined object, 0A unsupported.
            return ["22", "28", "3D", "42", "0A"].contains(String(state.prefix(2)))
        default:
            return false
        }
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        return text.count > 2000 ? String(text.prefix(2000)) + "…" : text
    }
}
