import Alerting
import Foundation
import Logging
import PostgresClient
import Queue
import Settings
import Support

/// Sends claimed notices through the channels routed for their severity, all channels of one
/// notice at once, and records every outcome in `alert_deliveries`. Never throws for a channel:
/// one that cannot be built or does not deliver is a row with `delivered = false`.
package struct AlertNotifier: Sendable {
    package typealias ChannelFactory = @Sendable (String) throws -> ConfiguredAlertChannel

    let settings: AlertSettings
    let makeChannel: ChannelFactory
    let senderHost: String
    let sender: String
    let logger: Logger

    package init(settings: AlertSettings, senderHost: String = HostInfo.hostName, sender: String = HostInfo.userAtHost,
                logger: Logger, makeChannel: ChannelFactory? = nil) {
        self.settings = settings
        self.senderHost = senderHost
        self.sender = sender
        self.logger = logger
        self.makeChannel = makeChannel ?? { name in try settings.channel(named: name) }
    }

    package struct Outcome: Sendable, Equatable {
        package let alertID: Int64
        package let event: AlertNotice.Event
        package let channel: String
        package let delivered: Bool
        package let attempts: Int
        package let error: String?
    }

    /// Delivers every notice; returns one outcome per notice and channel.
    package func send(_ notices: [AlertNotice], on connection: PostgresConnection) async throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for notice in notices {
            let names = settings.channelNames(for: notice.severity)
            if names.isEmpty {
                logger.notice("alert recorded; no channel is routed for its severity", metadata: [
                    "alert.id": "\(notice.alertID)", "alert.rule": "\(notice.rule)", "alert.event": "\(notice.event.rawValue)",
                ])
                continue
            }
            let message = notice.message(senderHost: senderHost)
            let results = await withTaskGroup(of: (Outcome, Double).self) { group in
                for name in names {
                    group.addTask { await deliver(message, notice: notice, channel: name) }
                }
                var results: [(Outcome, Double)] = []
                for await result in group { results.append(result) }
                return results.sorted { $0.0.channel < $1.0.channel }
            }
            for (outcome, milliseconds) in results {
                try await connection.query(
                    """
                    INSERT INTO orchestrator.alert_deliveries (alert_id, channel, event, severity, delivered, attempts, error, duration_ms, sent_at, sent_by)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                    """,
                    [outcome.alertID, outcome.channel, outcome.event.rawValue, notice.severity.rawValue, outcome.delivered,
                     outcome.attempts, outcome.error, milliseconds, notice.time, sender]
                )
                outcomes.append(outcome)
            }
        }
        return outcomes
    }

    private func deliver(_ message: AlertMessage, notice: AlertNotice, channel name: String) async -> (Outcome, Double) {
        let channel: ConfiguredAlertChannel
        do {
            channel = try makeChannel(name)
        } catch {
            // Configuration errors name variables and files, never secret values.
            logger.warning("alert channel cannot be built", metadata: ["alert.channel": "\(name)", "error": "\(error)"])
            return (Outcome(alertID: notice.alertID, event: notice.event, channel: name, delivered: false, attempts: 0,
                            error: "channel not usable: \(error)"), 0)
        }
        let report = await channel.deliver(message, logger: logger)
        let milliseconds = Double(report.duration.components.seconds) * 1000 + Double(report.duration.components.attoseconds) / 1e15
        return (Outcome(alertID: notice.alertID, event: notice.event, channel: name, delivered: report.delivered,
                        attempts: report.attempts, error: report.lastError?.message), milliseconds)
    }
}
