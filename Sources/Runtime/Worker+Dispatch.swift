import Foundation
import Logging
import PostgresClient
import Queue
import Support

extension Worker {
    /// Claims running at once, each on a connection of its own: while one claim's round trip is
    /// in flight the next can already be under way, so short jobs never wait on one connection.
    static let dispatchers = 2

    /// Claims jobs for the slots: as many as there are idle slots, plus short jobs ahead of them
    /// (`worker.prefetch`) so bursts of those cost one claim per batch. Sleeps on the doorbell
    /// (NOTIFY, a freed slot, a recorded outcome) or until the next delayed job is due. Returns
    /// when the worker stops (or, with `--drain`, when nothing is left to run).
    func dispatchLoop(index: Int, buffer: JobBuffer, recorder: OutcomeRecorder) async {
        let claims = ConnectionHolder(connector: connector, logger: logger, purpose: "claims \(index)")
        defer { claims.close() }
        let backoff = Backoff(base: .milliseconds(200), cap: .seconds(10))
        var failures = 0
        while !stopping.isOpen, !Task.isCancelled {
            let seen = doorbell.generation  // before looking: a ring after this ends the wait below
            guard let reservation = buffer.reserve() else {
                await doorbell.wait(after: seen, timeout: .seconds(options.settings.pollSeconds))
                continue
            }
            let limits = JobQueue.ClaimLimits(anyKind: reservation.anyKind, shortAhead: reservation.ahead, shortKinds: shortKinds)
            let claimed: [ClaimedJob]
            let claimedAt = ContinuousClock.now  // the leases it sets last at least a lease from here
            do {
                claimed = try await claims.use { connection in
                    try await JobQueue.claim(on: connection, worker: identity, queues: queues, leaseSeconds: options.settings.leaseSeconds, limits: limits)
                }
                failures = 0
            } catch {
                _ = buffer.put([], for: reservation)
                if error is CancellationError { return }
                failures += 1
                logger.log(level: failures == 1 ? .warning : .debug, "claim failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff.delay(attempt: failures))
                continue
            }
            for job in claimed { running.hold(job.id, claimedAt: claimedAt) }
            release(buffer.put(claimed, for: reservation), recorder: recorder)
            if claimed.count == limits.total { continue }  // a full batch: more may be runnable
            if options.drain, claimed.isEmpty, buffer.isEmpty, recorder.isIdle {
                doorbell.ring()  // the other dispatcher, waiting on this claim, looks again and ends too
                return
            }
            do {
                if claimed.isEmpty, reservation.anyKind > 0, buffer.isEmpty {
                    await doorbell.wait(after: seen, timeout: try await idleWait(claims))
                } else {
                    await doorbell.wait(after: seen, timeout: .seconds(options.settings.pollSeconds))
                }
            } catch {
                await doorbell.wait(after: seen, timeout: .seconds(options.settings.pollSeconds))
            }
        }
    }

    /// Gives back jobs that were claimed but will not start here (the worker is stopping):
    /// queued again without using up an attempt.
    func release(_ jobs: [ClaimedJob], recorder: OutcomeRecorder) {
        for job in jobs {
            _ = running.remove(job.id)
            recorder.record(JobQueue.Completion(job: job, outcome: .released(reason: "worker shutting down before the job started"), logTail: nil))
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
