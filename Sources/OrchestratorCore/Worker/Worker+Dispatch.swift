import Foundation
import Logging
import PostgresClient

extension Worker {
    /// Claims jobs for the slots on a connection of its own: as many as there are idle slots,
    /// plus short jobs ahead of them (`worker.prefetch`) so bursts of those cost one claim per
    /// batch. Sleeps on the doorbell (NOTIFY, a freed slot, a recorded outcome) or until the next
    /// delayed job is due. On shutdown, jobs still waiting are released without using an attempt.
    func dispatchLoop(buffer: JobBuffer, recorder: OutcomeRecorder) async {
        let claims = ConnectionHolder(connector: connector, logger: logger, purpose: "claims")
        defer {
            claims.close()
            for job in buffer.close() {
                _ = running.remove(job.id)
                recorder.record(JobQueue.Completion(job: job, outcome: .released(reason: "worker shutting down before the job started"), logTail: nil))
            }
        }
        let shortKinds = registry.kinds.filter(\.isShort).map(\.name)
        let backoff = Backoff(base: .milliseconds(200), cap: .seconds(10))
        var failures = 0
        while !stopping.isOpen, !Task.isCancelled {
            let (idleSlots, ahead) = buffer.wanted
            guard idleSlots > 0 || ahead > 0 else {
                await doorbell.wait(timeout: .seconds(options.settings.pollSeconds))
                continue
            }
            let limits = JobQueue.ClaimLimits(anyKind: idleSlots, shortAhead: ahead, shortKinds: shortKinds)
            do {
                let claimed = try await claims.use { connection in
                    try await JobQueue.claim(on: connection, worker: identity, queues: queues, leaseSeconds: options.settings.leaseSeconds, limits: limits)
                }
                failures = 0
                for job in claimed { running.hold(job.id) }
                buffer.put(claimed)
                if claimed.count == limits.total { continue }  // a full batch: more may be runnable
                if options.drain, claimed.isEmpty, buffer.isEmpty, recorder.isIdle { return }
                if claimed.isEmpty, idleSlots > 0, buffer.isEmpty {
                    await doorbell.wait(timeout: try await idleWait(claims))
                } else {
                    await doorbell.wait(timeout: .seconds(options.settings.pollSeconds))
                }
            } catch is CancellationError {
                return
            } catch {
                failures += 1
                logger.log(level: failures == 1 ? .warning : .debug, "claim failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff.delay(attempt: failures))
            }
        }
    }

    /// Sleep until the next delayed job is due, at most the poll interval.
    private func idleWait(_ claims: ConnectionHolder) async throws -> Duration {
        let poll = Duration.seconds(options.settings.pollSeconds)
        let next = try await claims.use { try await JobQueue.nextRunAt(on: $0, queues: queues) }
        guard let next else { return poll }
        let untilNext = Duration.milliseconds(Int64(max(0, next.timeIntervalSinceNow) * 1000) + 5)
        return min(poll, untilNext)
    }
}
