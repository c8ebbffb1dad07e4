import Foundation
import Logging
import PostgresClient

extension Worker {
    static let jobsChannel = "orchestrator_jobs"
    static let cancelChannel = "orchestrator_cancel"

    /// LISTENs for new work and cancel requests on a connection of its own.
    func listenLoop() async {
        let backoff = Backoff(base: .milliseconds(250), cap: .seconds(30))
        var failures = 0
        while !Task.isCancelled {
            do {
                let connection = try await connector.connectRetrying(logger: logger, purpose: "listener")
                defer { connection.close() }
                try await connection.listen(Self.jobsChannel)
                try await connection.listen(Self.cancelChannel)
                if failures > 0 { logger.info("listener reconnected") }
                failures = 0
                doorbell.ring()  // notifications sent while disconnected are lost; look once
                while !Task.isCancelled {
                    for notification in try await connection.waitForNotifications(timeout: .seconds(60)) {
                        handle(notification)
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                failures += 1
                logger.log(level: failures == 1 ? .warning : .debug, "listener lost its connection; reconnecting", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff.delay(attempt: failures))
            }
        }
    }

    private func handle(_ notification: PostgresNotification) {
        switch notification.channel {
        case Self.jobsChannel where queues.contains(notification.payload):
            doorbell.ring()
        case Self.cancelChannel:
            if let id = Int64(notification.payload), running.stop(id, reason: .cancelRequested) {
                logger.notice("cancel requested", metadata: ["job.id": "\(id)"])
            }
        default:
            break
        }
    }

    /// Heartbeat and lease renewal, reaping of expired leases, and scheduler ticks.
    func maintenanceLoop(control: ConnectionHolder) async {
        let settings = options.settings
        let scheduler = Scheduler(configuration: configuration, registry: registry, identity: identity, logger: logger)
        let schedulerEnabled = options.scheduler.enabled && !options.drain && !configuration.schedules.isEmpty
        var lastReap = ContinuousClock.now - .seconds(settings.reaperSeconds)
        var lastSchedule = ContinuousClock.now - .seconds(options.scheduler.tickSeconds)
        while !Task.isCancelled {
            do {
                try await renewLeases(control)
                if ContinuousClock.now - lastReap >= .seconds(settings.reaperSeconds) {
                    lastReap = ContinuousClock.now
                    try await reap(control)
                }
                if schedulerEnabled, !stopping.isOpen, ContinuousClock.now - lastSchedule >= .seconds(options.scheduler.tickSeconds) {
                    lastSchedule = ContinuousClock.now
                    try await control.use { try await scheduler.tick(on: $0) }
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("maintenance step failed; will retry", metadata: ["error": "\(error)"])
            }
            let interval = min(settings.heartbeatSeconds, settings.reaperSeconds, schedulerEnabled ? options.scheduler.tickSeconds : Int.max)
            try? await Task.sleep(for: .seconds(max(1, interval)))
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

    private func reap(_ control: ConnectionHolder) async throws {
        let reaped = try await control.use { connection in
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
