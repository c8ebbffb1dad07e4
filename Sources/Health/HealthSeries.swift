import Foundation
import PostgresClient

/// A metric's recent history, averaged into equal buckets, for sparklines.
package struct HealthSeries: Sendable, Codable, Equatable {
    package struct Key: Sendable, Hashable, Codable {
        package let host: String
        package let metric: String
        package let subject: String

        package init(host: String, metric: String, subject: String) {
            self.host = host
            self.metric = metric
            self.subject = subject
        }
    }

    package let key: Key
    /// Bucket index (0 = oldest) -> average value; buckets without a numeric sample are absent.
    package let buckets: [Int: Double]

    /// The series of `metrics` over the `buckets` equal slices of the period ending at `now`.
    /// Averaging happens in the server, so at most `buckets` rows per series cross the wire.
    package static func load(metrics: [String], since: Date, until now: Date, buckets: Int,
                             on connection: PostgresConnection) async throws -> [Key: HealthSeries] {
        let width = max(1, now.timeIntervalSince(since) / Double(buckets))
        let rows = try await connection.query(
            """
            SELECT host, metric, subject, floor(extract(epoch FROM taken_at - $2::timestamptz) / $3::float8)::int AS bucket,
                   avg(value)::float8 AS value
            FROM orchestrator.health_samples
            WHERE taken_at > $2::timestamptz AND taken_at <= $4::timestamptz AND metric = ANY($1::text[]) AND value IS NOT NULL
            GROUP BY 1, 2, 3, 4
            """,
            [metrics, since, width, now]
        )
        var result: [Key: [Int: Double]] = [:]
        for row in rows.rows {
            let key = Key(host: try row.decode("host"), metric: try row.decode("metric"), subject: try row.decode("subject"))
            let bucket: Int = min(buckets - 1, max(0, try row.decode("bucket")))
            result[key, default: [:]][bucket] = try row.decode("value")
        }
        return result.reduce(into: [:]) { $0[$1.key] = HealthSeries(key: $1.key, buckets: $1.value) }
    }
}
