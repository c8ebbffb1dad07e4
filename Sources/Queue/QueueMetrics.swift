import Foundation
import PostgresClient

/// The queue as `/metrics` shows it: depth by queue and state, what finished in the last 24
/// hours by kind, and how long runs of each kind took.
package struct QueueMetrics: Sendable, Codable, Equatable {
    package struct Depth: Sendable, Codable, Equatable {
        package let queue: String
        package let state: String
        package let jobs: Int
    }

    package struct Outcome: Sendable, Codable, Equatable {
        package let kind: String
        package let state: String
        package let jobs: Int
    }

    package struct Durations: Sendable, Codable, Equatable {
        package let kind: String
        package let runs: Int
        package let averageSeconds: Double
        package let maxSeconds: Double
        package let totalSeconds: Double
        /// Runs that took at most each of `durationBounds` seconds (cumulative, as a Prometheus
        /// histogram's buckets are).
        package let atMost: [Int]
    }

    /// The histogram's bucket bounds in seconds: from quick maintenance to a long base backup.
    package static let durationBounds: [Double] = [1, 5, 15, 60, 300, 900, 3600, 14_400]

    /// Queued and running jobs by queue.
    package let depth: [Depth]
    /// Jobs that finished in the last 24 hours by kind and final state.
    package let outcomes: [Outcome]
    /// Closed runs started in the last 24 hours, by kind.
    package let durations: [Durations]

    package static func load(on connection: PostgresConnection) async throws -> QueueMetrics {
        // Unfinished jobs are few; the partial claim and lease indexes hold exactly them. Written
        // as OR, not IN: each arm then matches one partial index's predicate (with IN the planner
        // scanned the whole table).
        let depth = try await connection.query(
            """
            SELECT queue, state, count(*) AS n FROM orchestrator.jobs
            WHERE state = 'queued' OR state = 'running' GROUP BY queue, state ORDER BY queue, state
            """
        ).rows.map { Depth(queue: try $0.decode("queue"), state: try $0.decode("state"), jobs: try $0.decode("n")) }
        let outcomes = try await connection.query(
            """
            SELECT kind, state, count(*) AS n FROM orchestrator.jobs
            WHERE finished_at > now() - interval '24 hours' AND state IN ('succeeded', 'failed', 'cancelled')
            GROUP BY kind, state ORDER BY kind, state
            """
        ).rows.map { Outcome(kind: try $0.decode("kind"), state: try $0.decode("state"), jobs: try $0.decode("n")) }
        // By start time, which job_runs_started_idx covers; a run longer than a day is still
        // counted on the day it started.
        let buckets = durationBounds.map { "count(*) FILTER (WHERE d.seconds <= \($0))" }.joined(separator: ", ")
        let durations = try await connection.query(
            """
            SELECT d.kind, count(*) AS n, avg(d.seconds) AS average, max(d.seconds) AS longest, sum(d.seconds) AS total,
                   ARRAY[\(buckets)]::text[] AS at_most
            FROM (
                SELECT j.kind, extract(epoch FROM r.duration)::float8 AS seconds
                FROM orchestrator.job_runs r JOIN orchestrator.jobs j ON j.id = r.job_id
                WHERE r.started_at > now() - interval '24 hours' AND r.finished_at IS NOT NULL
            ) d
            GROUP BY d.kind ORDER BY d.kind
            """
        ).rows.map {
            let counts: [String] = try $0.decode("at_most")
            return Durations(kind: try $0.decode("kind"), runs: try $0.decode("n"), averageSeconds: try $0.decode("average"),
                             maxSeconds: try $0.decode("longest"), totalSeconds: try $0.decode("total"), atMost: counts.compactMap { Int($0) })
        }
        return QueueMetrics(depth: depth, outcomes: outcomes, durations: durations)
    }
}
