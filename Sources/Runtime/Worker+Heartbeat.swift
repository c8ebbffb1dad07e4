import Logging
import Queue

extension Worker {
    /// Heartbeat and lease renewal, alone on the control connection: nothing else (a slow
    /// scheduler tick, a long reap) may delay it, because a lease not renewed in time lets any
    /// worker's reaper take a running job away. It runs until every other loop has ended, so
    /// leases are kept while jobs finish during shutdown.
    func heartbeatLoop(control: ConnectionHolder) async {
        await every(.seconds(max(1, options.settings.heartbeatSeconds)), "heartbeat") {
            try await renewLeases(control)
        }
    }

    private func renewLeases(_ control: ConnectionHolder) async throws {
        let mine = running.ids
        let renewal = try await control.use { connection in
            try await JobQueue.renewLeases(worker: identity, leaseSeconds: options.settings.leaseSeconds, on: connection)
        }
        for id in renewal.cancelRequested where running.stop(id, reason: .cancelRequested) {
            logger.notice("cancel requested", metadata: ["job.id": "\(id)"])
        }
        // A job we run that is no longer ours in the database was reaped: stop it so it never runs twice.
        for id in mine.subtracting(renewal.held) where running.stop(id, reason: .leaseLost) {
            logger.error("lost the lease on a running job; stopping it", metadata: ["job.id": "\(id)"])
        }
    }
}
