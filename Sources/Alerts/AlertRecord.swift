import Foundation
import PostgresClient

/// A row of `orchestrator.alerts` with its delivery counts, for `alerts list` and reports.
package struct AlertRecord: Sendable, Codable, Equatable {
    package let id: Int64
    package let rule: String
    package let source: String
    package let subject: String
    package let host: String
    package let severity: String
    package let state: String
    package let value: Double?
    package let threshold: Double?
    package let summary: String
    package let firstSeenAt: Date
    package let firedAt: Date
    package let lastNotifiedAt: Date?
    package let notifications: Int
    package let resolvedAt: Date?
    package let resolveReason: String?
    package let deliveries: Int
    package let failedDeliveries: Int

    /// Firing episodes (with `all`, resolved ones too), newest first. `since` limits to episodes
    /// fired or resolved after it.
    package static func load(all: Bool, since: Date? = nil, limit: Int = 100, on connection: PostgresConnection) async throws -> [AlertRecord] {
        let rows = try await connection.query(
            """
            SELECT \(columns)
            FROM orchestrator.alerts a
            WHERE ($1 OR a.state = 'firing')
              AND ($2::timestamptz IS NULL OR a.fired_at >= $2 OR a.resolved_at >= $2 OR a.state = 'firing')
            ORDER BY (a.state = 'firing') DESC, (a.severity = 'critical') DESC, a.fired_at DESC, a.id DESC
            LIMIT $3
            """,
            [all, since, limit]
        )
        return try rows.rows.map { try AlertRecord($0) }
    }

    /// The select list every query of alerts with their delivery counts uses (alias `a`).
    static let columns = """
        a.id, a.rule, a.source, a.subject, a.host, a.severity, a.state, a.value, a.threshold, a.summary,
        a.first_seen_at, a.fired_at, a.last_notified_at, a.notifications, a.resolved_at, a.resolve_reason,
        (SELECT count(*) FROM orchestrator.alert_deliveries d WHERE d.alert_id = a.id) AS deliveries,
        (SELECT count(*) FROM orchestrator.alert_deliveries d WHERE d.alert_id = a.id AND NOT d.delivered) AS failed_deliveries
        """

    init(_ row: PostgresRow) throws {
        id = try row.decode("id")
        rule = try row.decode("rule")
        source = try row.decode("source")
        subject = try row.decode("subject")
        host = try row.decode("host")
        severity = try row.decode("severity")
        state = try row.decode("state")
        value = try row.decodeIfPresent("value")
        threshold = try row.decodeIfPresent("threshold")
        summary = try row.decode("summary")
        firstSeenAt = try row.decode("first_seen_at")
        firedAt = try row.decode("fired_at")
        lastNotifiedAt = try row.decodeIfPresent("last_notified_at")
        notifications = try row.decode("notifications")
        resolvedAt = try row.decodeIfPresent("resolved_at")
        resolveReason = try row.decodeIfPresent("resolve_reason")
        deliveries = try row.decode("deliveries")
        failedDeliveries = try row.decode("failed_deliveries")
    }
}
