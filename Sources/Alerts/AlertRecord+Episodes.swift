import Foundation
import PostgresClient

extension AlertRecord {
    package enum Severity: String, Sendable, CaseIterable { case warning, critical }

    /// Every firing episode (at most `limit`), critical first, then the newest.
    package static func firing(severity: Severity?, limit: Int, on connection: PostgresConnection) async throws -> [AlertRecord] {
        // alerts_one_firing_idx holds only the firing rows, one per rule, subject and host.
        let rows = try await connection.query(
            """
            SELECT \(columns) FROM orchestrator.alerts a
            WHERE a.state = 'firing' AND ($1::text IS NULL OR a.severity = $1)
            ORDER BY (a.severity = 'critical') DESC, a.fired_at DESC, a.id DESC
            LIMIT $2
            """,
            [severity?.rawValue, limit]
        )
        return try rows.rows.map { try AlertRecord($0) }
    }

    /// The most recently resolved episodes, newest resolution first (`alerts_resolved_idx`).
    package static func resolved(severity: Severity?, limit: Int, on connection: PostgresConnection) async throws -> [AlertRecord] {
        let rows = try await connection.query(
            """
            SELECT \(columns) FROM orchestrator.alerts a
            WHERE a.resolved_at IS NOT NULL AND ($1::text IS NULL OR a.severity = $1)
            ORDER BY a.resolved_at DESC, a.id DESC
            LIMIT $2
            """,
            [severity?.rawValue, limit]
        )
        return try rows.rows.map { try AlertRecord($0) }
    }
}
