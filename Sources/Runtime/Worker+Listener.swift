import BlockingWork
import Foundation
import Logging
import PostgresClient
import Support

extension Worker {
    static let jobsChannel = "orchestrator_jobs"
    static let cancelChannel = "orchestrator_cancel"

    /// LISTENs for new work and cancel requests on a connection of its own.
    func listenLoop() async {
        let backoff = Backoff.reconnect
        var failures = 0
        while !Task.isCancelled {
            do {
                let connection = try await connector.connectRetrying(logger: logger, purpose: "listener", lane: .control)
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
}
