import Foundation
import PostgresClient

/// One metric's history for a chart: raw samples folded into at most a given number of time
/// buckets, or one point per UTC day from the daily rollups. Both read one series through its
/// index (`health_samples_series_idx`, `health_daily_series_idx`), so the cost follows the
/// period's rows of that series, not the size of the tables.
package struct HealthHistory: Sendable, Encodable, Equatable {
    package enum Source: String, Sendable, Encodable {
        /// `health_samples`, several samples per point when there are more than the points allowed.
        case raw
        /// `health_daily`, and today's (or any not yet rolled up day's) raw samples per day.
        case daily
    }

    /// One point: min/avg/max of the numeric samples it covers; nil when it holds only failed samples.
    package struct Point: Sendable, Encodable, Equatable {
        /// The mean time of its samples (raw); noon UTC of the day (daily).
        package let at: Date
        package let min: Double?
        package let avg: Double?
        package let max: Double?
        /// Numeric samples behind the point.
        package let count: Int64
        package let failed: Int64
    }

    package let key: HealthSeries.Key
    package let source: Source
    package let since: Date
    package let until: Date
    package let unit: String?
    /// Oldest first.
    package let points: [Point]

    /// Raw samples of `(since, until]`, averaged into at most `maxPoints` equal buckets (a bucket
    /// with one sample keeps that sample's time and value).
    package static func raw(_ key: HealthSeries.Key, since: Date, until: Date, maxPoints: Int,
                            on connection: PostgresConnection) async throws -> HealthHistory {
        let width = Swift.max(1, until.timeIntervalSince(since) / Double(Swift.max(1, maxPoints)))
        let rows = try await connection.query(
            """
            SELECT floor(extract(epoch FROM taken_at - $4::timestamptz) / $6::float8)::int8 AS bucket,
                   avg(extract(epoch FROM taken_at))::float8 AS at, min(value) AS min, avg(value)::float8 AS avg, max(value) AS max,
                   count(value) AS n, count(*) FILTER (WHERE status = 'failed') AS failed, max(unit) AS unit
            FROM orchestrator.health_samples
            WHERE host = $1 AND metric = $2 AND subject = $3 AND taken_at > $4::timestamptz AND taken_at <= $5::timestamptz
            GROUP BY 1
            ORDER BY 1
            """,
            [key.host, key.metric, key.subject, since, until, width]
        )
        return try history(key, .raw, since: since, until: until, rows: rows) { row in
            Date(timeIntervalSince1970: try row.decode("at"))
        }
    }

    /// One point per UTC day from `since`'s day on: the daily rollups, then the raw samples of the
    /// days after the newest rollup (today is rolled up only once it is over).
    package static func daily(_ key: HealthSeries.Key, since: Date, until: Date, on connection: PostgresConnection) async throws -> HealthHistory {
        let rows = try await connection.query(
            """
            WITH rolled AS (
                SELECT day, min, avg, max, count::int8 AS n, failed::int8 AS failed, unit
                FROM orchestrator.health_daily
                WHERE host = $1 AND metric = $2 AND subject = $3
                  AND day >= ($4::timestamptz AT TIME ZONE 'UTC')::date AND day <= ($5::timestamptz AT TIME ZONE 'UTC')::date
            ), recent AS (
                SELECT (taken_at AT TIME ZONE 'UTC')::date AS day, min(value) AS min, avg(value)::float8 AS avg, max(value) AS max,
                       count(value) AS n, count(*) FILTER (WHERE status = 'failed') AS failed, max(unit) AS unit
                FROM orchestrator.health_samples
                WHERE host = $1 AND metric = $2 AND subject = $3 AND taken_at <= $5::timestamptz
                  AND taken_at >= greatest(date_trunc('day', $4::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                                           coalesce(((SELECT max(day) FROM rolled) + 1)::timestamp AT TIME ZONE 'UTC', '-infinity'))
                GROUP BY 1
            )
            SELECT day::text AS day, min, avg, max, n, failed, unit FROM rolled
            UNION ALL
            SELECT day::text, min, avg, max, n, failed, unit FROM recent
            ORDER BY day
            """,
            [key.host, key.metric, key.subject, since, until]
        )
        return try history(key, .daily, since: since, until: until, rows: rows) { row in
            try noon(of: try row.decode("day"))
        }
    }

    private static func history(_ key: HealthSeries.Key, _ source: Source, since: Date, until: Date, rows: QueryResult,
                                at: (PostgresRow) throws -> Date) throws -> HealthHistory {
        var unit: String?
        let points = try rows.rows.map { row in
            if unit == nil { unit = try row.decodeIfPresent("unit") }
            return Point(at: try at(row), min: try row.decodeIfPresent("min"), avg: try row.decodeIfPresent("avg"),
                         max: try row.decodeIfPresent("max"), count: try row.decode("n"), failed: try row.decode("failed"))
        }
        return HealthHistory(key: key, source: source, since: since, until: until, unit: unit, points: points)
    }

    /// `2026-03-01` -> 2026-03-01T12:00:00Z, the middle of the day a daily point stands for.
    static func noon(of day: String) throws -> Date {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard parts.count == 3,
              let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 12)) else {
            throw PostgresError(code: .server, message: "unexpected day \(day.prefix(20))")
        }
        return date
    }
}
