import Foundation
import Logging
import PostgresClient

extension Worker {
    /// One slot: claim, run, record, repeat; wait for the doorbell when idle.
    func slotLoop(index: Int) async {
        var slotLogger = logger
        slotLogger[metadataKey: "worker.slot"] = "\(index)"
        let slot = ConnectionHolder(connector: connector, logger: slotLogger, purpose: "slot \(index)")
        defer { slot.close() }
        let executor = JobExecutor(
            registry: registry, configuration: configuration, connector: connector, running: running,
            retryBackoff: options.retryBackoff, logger: slotLogger
        )
        let backoff = Backoff(base: .milliseconds(200), cap: .seconds(10))
        var failures = 0
        while !stopping.isOpen, !Task.isCancelled {
            do {
                let claimed = try await slot.use { connection in
                    try await JobQueue.claim(on: connection, worker: identity, queues: queues, leaseSeconds: options.settings.leaseSeconds)
                }
                failures = 0
                guard let job = claimed else {
                    if options.drain { return }
                    await doorbell.wait(timeout: try await idleWait(slot))
                    continue
                }
                let (outcome, tail) = await executor.run(job, slot: slot)
                await record(job, outcome: outcome, logTail: tail, slot: slot, logger: slotLogger)
            } catch is CancellationError {
                return
            } catch {
                failures += 1
                slotLogger.log(level: failures == 1 ? .warning : .debug, "claim failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff.delay(attempt: failures))
            }
        }
    }

    /// Sleep until the next delayed job is due, at most the poll interval.
    private func idleWait(_ slot: ConnectionHolder) async throws -> Duration {
        let poll = Duration.seconds(options.settings.pollSeconds)
        let next = try await slot.use { try await JobQueue.nextRunAt(on: $0, queues: queues) }
        guard let next else { return poll }
        let untilNext = Duration.milliseconds(Int64(max(0, next.timeIntervalSinceNow) * 1000) + 5)
        return min(poll, untilNext)
    }

    /// Records the outcome, retrying through connection loss: the job is ours until our lease
    /// expires, and the guarded update changes nothing if the reaper took it meanwhile.
    private func record(_ job: ClaimedJob, outcome: JobOutcome, logTail: String?, slot: ConnectionHolder, logger: Logger) async {
        let backoff = Backoff(base: .milliseconds(200), cap: .seconds(5))
        var attempt = 0
        while true {
            do {
                let recorded = try await slot.use { connection in
                    try await JobQueue.finish(job, outcome: outcome, logTail: logTail, worker: identity, on: connection)
                }
                if !recorded {
                    logger.warning("job was taken over after our lease expired; outcome not recorded", metadata: ["job.id": "\(job.id)"])
                }
                return
            } catch {
                attempt += 1
                logger.log(level: attempt == 1 ? .warning : .debug, "cannot record job outcome yet; retrying", metadata: ["job.id": "\(job.id)", "error": "\(error)"])
                // Give up only if the process is being torn down; the reaper then requeues the job.
                if Task.isCancelled { return }
                try? await Task.sleep(for: backoff.delay(attempt: attempt))
            }
        }
    }
}
