import Backups
import Logging
import Queue

extension Worker {
    /// Requeues (or fails) jobs whose lease expired on any worker, and prunes the registry of
    /// workers gone long ago. On a connection of its own, opened at its first beat.
    ///
    /// While a physical backup profile is configured, the same beat writes a recovery marker
    /// about once a minute (`RecoveryMarkers`), which point-in-time drills check: one small
    /// INSERT, no timer or connection of its own.
    func reaperLoop() async {
        let connection = ConnectionHolder(connector: connector, logger: logger, purpose: "reaper")
        defer { connection.close() }
        let clock = ContinuousClock()
        let marksRecovery = configuration.backups.profiles.values.contains { $0.method == .physical }
        var lastMarker: ContinuousClock.Instant?
        await every(.seconds(max(1, options.settings.reaperSeconds)), "reaper") {
            try await reap(connection)
            if marksRecovery, lastMarker.map({ clock.now - $0 >= .seconds(59) }) ?? true {
                try await connection.use { try await RecoveryMarkers.write(worker: identity.id, on: $0) }
                lastMarker = clock.now
            }
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
