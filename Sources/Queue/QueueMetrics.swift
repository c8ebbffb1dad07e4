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
    }

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
        let durations = try await connection.query(
            """
            SELECT j.kind, count(*) AS n,
                   avg(extract(epoch FROM r.duration))::float8 AS average, max(extract(epoch FROM r.duration))::float8 AS longest
            FROM orchestrator.job_runs r JOIN orchestrator.jobs j ON j.id = r.job_id
            WHERE r.started_at > now() - interval '24 hours' AND r.finished_at IS NOT NULL
            GROUP BY j.kind ORDER BY j.kind
            """
        ).rows.map {
            Durations(kind: try $0.decode("kind"), runs: try $0.decode("n"), averageSeconds: try $0.decode("average"), maxSeconds: try $0.decode("longest"))
        }
        return QueueMetrics(depth: depth, outcomes: outcomes, durations: durations)
    }
}
