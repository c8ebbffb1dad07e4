import Foundation
import PostgresClient

/// One row of `latest_health`: the newest value of a metric for a host and subject.
package struct LatestHealthSample: Sendable, Codable, Equatable {
    package let host: String
    /// `system`, `postgres`, `service` or `check` (custom SQL checks).
    package let category: String
    package let subject: String
    package let metric: String
    package let value: Double?
    package let unit: String?
    package let status: String
    package let message: String?
    package let takenAt: Date

    /// Every metric of each host's newest run, or only `metrics` when given, ordered by host,
    /// metric and subject.
    package static func load(metrics: [String]? = nil, on connection: PostgresConnection) async throws -> [LatestHealthSample] {
        let rows = try await connection.query(
            """
            SELECT host, category, subject, metric, value, unit, status, message, taken_at FROM orchestrator.latest_health
            WHERE $1::text[] IS NULL OR metric = ANY($1::text[])
            ORDER BY host, metric, subject
            """,
            [metrics]
        )
        return try rows.rows.map { row in
            LatestHealthSample(
                host: try row.decode("host"), category: try row.decode("category"), subject: try row.decode("subject"), metric: try row.decode("metric"),
                value: try row.decodeIfPresent("value"), unit: try row.decodeIfPresent("unit"), status: try row.decode("status"),
                message: try row.decodeIfPresent("message"), takenAt: try row.decode("taken_at")
            )
        }
    }
}
