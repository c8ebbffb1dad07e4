import Foundation
import PostgresClient

/// A row of `orchestrator.alerts` with its delivery counts, for `alerts list` and reports.
public struct AlertRecord: Sendable, Codable, Equatable {
    public let id: Int64
    public let rule: String
    public let source: String
    public let subject: String
    public let host: String
    public let severity: String
    public let state: String
    public let value: Double?
    public let threshold: Double?
    public let summary: String
    public let firstSeenAt: Date
    public let firedAt: Date
    public let lastNotifiedAt: Date?
    public let notifications: Int
    public let resolvedAt: Date?
    public let resolveReason: String?
    public let deliveries: Int
    public let failedDeliveries: Int

    /// Firing episodes (with `all`, resolved ones too), newest first. `since` limits to episodes
    /// fired or resolved after it.
    public static func load(all: Bool, since: Date? = nil, limit: Int = 100, on connection: PostgresConnection) async throws -> [AlertRecord] {
        let rows = try await connection.query(
            """
            SELECT a.id, a.rule, a.source, a.subject, a.host, a.severity, a.state, a.value, a.threshold, a.summary,
                   a.first_seen_at, a.fired_at, a.last_notified_at, a.notifications, a.resolved_at, a.resolve_reason,
                   (SELECT count(*) FROM orchestrator.alert_deliveries d WHERE d.alert_id = a.id) AS deliveries,
                   (SELECT count(*) FROM orchestrator.alert_deliveries d WHERE d.alert_id = a.id AND NOT d.delivered) AS failed_deliveries
            FROM orchestrator.alerts a
            WHERE ($1 OR a.state = 'firing')
              AND ($2::timestamptz IS NULL OR a.fired_at >= $2 OR a.resolved_at >= $2 OR a.state = 'firing')
            ORDER BY (a.state = 'firing') DESC, (a.severity = 'critical') DESC, a.fired_at DESC, a.id DESC
            LIMIT $3
            """,
            [all, since, limit]
        )
        return try rows.rows.map { row in
            AlertRecord(
                id: try row.decode("id"), rule: try row.decode("rule"), source: try row.decode("source"), subject: try row.decode("subject"),
                host: try row.decode("host"), severity: try row.decode("severity"), state: try row.decode("state"),
                value: try row.decodeIfPresent("value"), threshold: try row.decodeIfPresent("threshold"), summary: try row.decode("summary"),
                firstSeenAt: try row.decode("first_seen_at"), firedAt: try row.decode("fired_at"),
                lastNotifiedAt: try row.decodeIfPresent("last_notified_at"), notifications: try row.decode("notifications"),
                resolvedAt: try row.decodeIfPresent("resolved_at"), resolveReason: try row.decodeIfPresent("resolve_reason"),
                deliveries: try row.decode("deliveries"), failedDeliveries: try row.decode("failed_deliveries")
            )
        }
    }
}
