import Foundation
import PostgresClient

/// A row of `orchestrator.alert_deliveries`: one message of an alert through one channel, and
/// whether it arrived (the error is the last attempt's, already redacted when it was stored).
package struct AlertDeliveryRecord: Sendable, Codable, Equatable {
    package let id: Int64
    package let alertID: Int64
    package let channel: String
    package let event: String
    package let severity: String
    package let delivered: Bool
    package let attempts: Int
    package let error: String?
    package let sentAt: Date
    package let sentBy: String

    enum CodingKeys: String, CodingKey {
        case id, alertID = "alert_id", channel, event, severity, delivered, attempts, error, sentAt = "sent_at", sentBy = "sent_by"
    }

    /// The deliveries of these alerts, oldest first per alert (`alert_deliveries_alert_idx`).
    /// A repeating alert sends a message per interval; only the newest `perAlert` are kept.
    package static func load(alertIDs: [Int64], perAlert: Int = 20, on connection: PostgresConnection) async throws -> [AlertDeliveryRecord] {
        guard !alertIDs.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            SELECT d.id, d.alert_id, d.channel, d.event, d.severity, d.delivered, d.attempts, d.error, d.sent_at, d.sent_by
            FROM unnest($1::int8[]) AS wanted(alert_id)
            CROSS JOIN LATERAL (
                SELECT * FROM orchestrator.alert_deliveries x WHERE x.alert_id = wanted.alert_id ORDER BY x.sent_at DESC, x.id DESC LIMIT $2
            ) d
            ORDER BY d.alert_id, d.sent_at, d.id
            """,
            [alertIDs.map(String.init), perAlert]
        )
        return try rows.rows.map { row in
            AlertDeliveryRecord(
                id: try row.decode("id"), alertID: try row.decode("alert_id"), channel: try row.decode("channel"), event: try row.decode("event"),
                severity: try row.decode("severity"), delivered: try row.decode("delivered"), attempts: try row.decode("attempts"),
                error: try row.decodeIfPresent("error"), sentAt: try row.decode("sent_at"), sentBy: try row.decode("sent_by")
            )
        }
    }
}
