import Foundation
import PostgresClient
import Support

/// The newest value of a metric for a host and subject: a row of `latest_health` (each host's
/// newest run), or of `loadEverySeries`.
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
    /// The sample's details object (a WAL stream's slot, a check's query); empty when none.
    package let details: [String: JSONValue]

    /// Every metric of each host's newest run, or only `metrics` when given, ordered by host,
    /// metric and subject.
    package static func load(metrics: [String]? = nil, on connection: PostgresConnection) async throws -> [LatestHealthSample] {
        let rows = try await connection.query(
            """
            SELECT host, category, subject, metric, value, unit, status, message, details::text AS details, taken_at FROM orchestrator.latest_health
            WHERE $1::text[] IS NULL OR metric = ANY($1::text[])
            ORDER BY host, metric, subject
            """,
            [metrics]
        )
        return try rows.rows.map(Self.init(row:))
    }
}

extension LatestHealthSample {
    /// In an extension, so the memberwise initialiser stays.
    init(row: PostgresRow) throws {
        self.init(
            host: try row.decode("host"), category: try row.decode("category"), subject: try row.decode("subject"), metric: try row.decode("metric"),
            value: try row.decodeIfPresent("value"), unit: try row.decodeIfPresent("unit"), status: try row.decode("status"),
            message: try row.decodeIfPresent("message"), takenAt: try row.decode("taken_at"),
            details: try row.decodeIfPresent("details").flatMap { (text: String) -> [String: JSONValue]? in
                if case .object(let object)? = try? JSONValue.parse(text) { object } else { nil }
            } ?? [:]
        )
    }

    /// The newest sample of every series (host, metric, subject) that still has raw samples,
    /// including those the newest run no longer measures (a removed check, a table that left the
    /// dead-tuples top N), ordered by host, metric and subject. A skip scan: each step asks
    /// `health_samples_series_idx` for the next series and then for its newest row, so the cost
    /// follows the number of series, not of samples.
    package static func loadEverySeries(on connection: PostgresConnection) async throws -> [LatestHealthSample] {
        let rows = try await connection.query(
            """
            WITH RECURSIVE series AS (
                (SELECT host, metric, subject FROM orchestrator.health_samples ORDER BY host, metric, subject LIMIT 1)
                UNION ALL
                SELECT next.host, next.metric, next.subject
                FROM series s
                CROSS JOIN LATERAL (
                    SELECT h.host, h.metric, h.subject FROM orchestrator.health_samples h
                    WHERE (h.host, h.metric, h.subject) > (s.host, s.metric, s.subject)
                    ORDER BY h.host, h.metric, h.subject LIMIT 1
                ) next
            )
            SELECT newest.* FROM series s
            CROSS JOIN LATERAL (
                SELECT h.host, h.category, h.subject, h.metric, h.value, h.unit, h.status, h.message, h.details::text AS details, h.taken_at
                FROM orchestrator.health_samples h
                WHERE h.host = s.host AND h.metric = s.metric AND h.subject = s.subject
                ORDER BY h.taken_at DESC LIMIT 1
            ) newest
            ORDER BY newest.host, newest.metric, newest.subject
            """
        )
        return try rows.rows.map(Self.init(row:))
    }
}
