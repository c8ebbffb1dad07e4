import Logging
import Queue

extension Worker {
    /// Requeues (or fails) jobs whose lease expired on any worker, and prunes the registry of
    /// workers gone long ago. On a connection of its own, opened at its first beat.
    func reaperLoop() async {
        let connection = ConnectionHolder(connector: connector, logger: logger, purpose: "reaper")
        defer { connection.close() }
        await every(.seconds(max(1, options.settings.reaperSeconds)), "reaper") {
            try await reap(connection)
        }
    }

    private func reap(_ connection: ConnectionHolder) async throws {
        let reaped = try await connection.use { connection in
            try await JobQueue.pruneWorkers(on: connection)
            return try await JobQueue.reapExpiredLeases(on: connection)
        }
        for job in reaped {
            logger.warning("reaped a job whose worker stopped heartbeating", metadata: [
                "job.id": "\(job.id)", "job.state": "\(job.state)", "job.previous_worker": "\(job.worker)",
            ])
        }
    }
}
