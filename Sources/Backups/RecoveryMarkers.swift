import Foundation
import PostgresClient

/// The marker rows point-in-time drills check: one per minute per worker, written in the
/// orchestrator's own database, kept 35 days (longer than any monthly drill looks back).
package enum RecoveryMarkers {
    package static let keepDays = 35

    package static func write(worker: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            WITH pruned AS (
                DELETE FROM orchestrator.recovery_markers WHERE written_at < now() - make_interval(days => $2)
            )
            INSERT INTO orchestrator.recovery_markers (worker) VALUES ($1)
            """,
            [worker, keepDays]
        )
    }

    /// Marker ids written in `[from, to)`, in order.
    static func ids(from: Date, to: Date, on connection: PostgresConnection) async throws -> [Int64] {
        try await connection.query(
            "SELECT id FROM orchestrator.recovery_markers WHERE written_at >= $1 AND written_at < $2 ORDER BY id", [from, to]
        ).rows.map { try $0.decode("id") }
    }

    /// Whether a marker was written within `margin` of `moment` (its commit may fall on either side).
    static func near(_ moment: Date, margin: TimeInterval, on connection: PostgresConnection) async throws -> Bool {
        !(try await ids(from: moment.addingTimeInterval(-margin), to: moment.addingTimeInterval(margin), on: connection)).isEmpty
    }
}
