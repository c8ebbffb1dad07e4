import Alerts
import Foundation
import PostgresClient

/// The alert episodes `/alerts` shows, firing ones first, each with its deliveries;
/// `/api/alerts` returns it as JSON.
package struct AlertsView: Sendable, Encodable {
    package struct Episode: Sendable, Encodable {
        package let alert: AlertRecord
        /// Oldest first, at most the newest 20 of the episode.
        package let deliveries: [AlertDeliveryRecord]
    }

    package let generatedAt: Date
    package let firing: [Episode]
    /// Newest resolution first, at most the page's limit.
    package let resolved: [Episode]

    enum CodingKeys: String, CodingKey { case generatedAt = "generated_at", firing, resolved }

    static func load(_ query: AlertsQuery, on connection: PostgresConnection, now: Date = Date()) async throws -> AlertsView {
        var firing: [AlertRecord] = [], resolved: [AlertRecord] = []
        if query.includesFiring { firing = try await AlertRecord.firing(severity: query.severity, limit: ListLimit.maximum, on: connection) }
        if query.includesResolved { resolved = try await AlertRecord.resolved(severity: query.severity, limit: query.limit, on: connection) }
        let deliveries = try await AlertDeliveryRecord.load(alertIDs: (firing + resolved).map(\.id), on: connection)
        let byAlert = Dictionary(grouping: deliveries, by: \.alertID)
        let episode = { (alert: AlertRecord) in Episode(alert: alert, deliveries: byAlert[alert.id] ?? []) }
        return AlertsView(generatedAt: now, firing: firing.map(episode), resolved: resolved.map(episode))
    }
}
