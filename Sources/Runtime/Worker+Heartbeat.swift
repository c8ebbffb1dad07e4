import Logging
import Queue

extension Worker {
    /// Heartbeat and lease renewal, alone on the control connection: nothing else (a slow
    /// scheduler tick, a long reap) may delay it, because a lease not renewed in time lets any
    /// worker's reaper take a running job away. It runs until every other loop has ended, so
    /// leases are kept while jobs finish during shutdown.
    ///
    /// The loop never waits for the database longer than one beat. When the server stops
    /// answering (packets dropped, not refused), a renewal, or the reconnect before it, waits as
    /// long as TCP lets it, and cancelling it cannot reach the server either; a loop waiting
    /// there would let running jobs outlive their leases unnoticed while a reaper hands them to
    /// another run. So each renewal runs in a task of its own, never two at once, and every beat
    /// waits for it at most one interval, then stops (`leaseLost`, released) the jobs whose lease
    /// was neither claimed nor renewed within the last lease, whether the renewal got through or
    /// not. Stopping cancels the job's task, which never waits either (`PostgresConnection.cancel()`).
    func heartbeatLoop(control: ConnectionHolder) async {
        let clock = ContinuousClock()
        let interval = Duration.seconds(max(1, options.settings.heartbeatSeconds))
        let lease = Duration.seconds(options.settings.leaseSeconds)
        let ended = Doorbell()  // rung by each renewal as it ends
        // Unstructured: a child task would make the loop's scope wait for a renewal stuck on an
        // unreachable server when the loop ends.
        var renewal: (task: Task<Void, any Error>, sentAfter: ContinuousClock.Instant, generation: UInt64)?
        var waits = 0
        defer { renewal?.task.cancel() }
        while !Task.isCancelled {
            let beat = clock.now
            if renewal == nil {
                let generation = ended.generation  // before the task starts: it may end at once
                let task = Task { [self] in
                    defer { ended.ring() }
                    try await renewLeases(control, sentAfter: beat)
                }
                renewal = (task, beat, generation)
            }
            guard let current = renewal else { return }
            await ended.wait(after: current.generation, timeout: interval)
            if Task.isCancelled { return }
            if ended.generation != current.generation {
                renewal = nil
                waits = 0
                if case .failure(let error) = await current.task.result, !(error is CancellationError) {
                    logger.warning("heartbeat failed; will retry", metadata: ["error": "\(error)"])
                }
            } else {
                waits += 1
                logger.log(level: waits == 1 ? .warning : .debug, "lease renewal is waiting for the database", metadata: [
                    "renewal.waiting_ms": "\(Int((clock.now - current.sentAfter).seconds * 1000))",
                ])
            }
            for id in running.stopExpiredLeases(lease: lease, now: clock.now) {
                logger.error("lease ran out without a renewal; stopping the job", metadata: ["job.id": "\(id)"])
            }
            do {
                try await Task.sleep(until: beat + interval, clock: clock)
            } catch {
                return
            }
        }
    }

    private func renewLeases(_ control: ConnectionHolder, sentAfter: ContinuousClock.Instant) async throws {
        let mine = running.ids
        let renewal = try await control.use { connection in
            try await JobQueue.renewLeases(worker: identity, leaseSeconds: options.settings.leaseSeconds, on: connection)
        }
        running.renewed(renewal.held, sentAt: sentAfter)
        for id in renewal.cancelRequested where running.stop(id, reason: .cancelRequested) {
            logger.notice("cancel requested", metadata: ["job.id": "\(id)"])
        }
        // A job we run that is no longer ours in the database was reaped: stop it so it never runs twice.
        for id in mine.subtracting(renewal.held) where running.stop(id, reason: .leaseLost) {
            logger.error("lost the lease on a running job; stopping it", metadata: ["job.id": "\(id)"])
        }
    }
}
