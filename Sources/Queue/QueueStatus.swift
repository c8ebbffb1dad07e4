import Foundation
import PostgresClient

/// `orchestrator status`: workers alive, queue depth by state, oldest queued job, recent failures.
package struct QueueStatus: Sendable, Codable, Equatable {
    package struct WorkerSummary: Sendable, Codable, Equatable {
        package let id: String
        package let host: String
        package let queues: [String]
        package let concurrency: Int
        package let version: String
        package let startedAt: Date
        package let heartbeatAt: Date
        package let runningJobs: Int
    }

    package let workersAlive: [WorkerSummary]
    /// Queued and running jobs now.
    package let jobsByState: [String: Int]
    /// Jobs that finished in the last 24 hours, by final state (succeeded, failed, cancelled).
    package let finishedLast24h: [String: Int]
    package let oldestQueuedAt: Date?
    /// Seconds the oldest runnable job has waited (run_at in the past).
    package let oldestRunnableWaitSeconds: Double?
    package let failedLast24h: Int
    package let schemaVersion: Int?

    package static func load(on connection: PostgresConnection, aliveWithin seconds: Int = 120) async throws -> QueueStatus {
        let workers = try await connection.query(
            """
            SELECT w.id, w.host, w.queues::text[] AS queues, w.concurrency, w.version, w.started_at, w.heartbeat_at,
                   (SELECT count(*) FROM orchestrator.jobs j WHERE j.state = 'running' AND j.locked_by = w.id) AS running
            FROM orchestrator.workers w
            WHERE w.stopped_at IS NULL AND w.heartbeat_at > now() - make_interval(secs => $1)
            ORDER BY w.host, w.started_at
            """,
            [seconds]
        )
        let alive = try workers.rows.map { row in
            WorkerSummary(
                id: try row.decode("id"), host: try row.decode("host"),
                queues: try row.decode("queues"),
                concurrency: try row.decode("concurrency"), version: try row.decode("version"),
                startedAt: try row.decode("started_at"), heartbeatAt: try row.decode("heartbeat_at"),
                runningJobs: try row.decode("running")
            )
        }
        // Each count reads an index that holds only its rows (queued, running, recent
        // finishes), so status costs the same however much finished history is kept.
        let depth = try await connection.query(
            """
            SELECT (SELECT count(*) FROM orchestrator.jobs WHERE state = 'queued') AS queued,
                   (SELECT count(*) FROM orchestrator.jobs WHERE state = 'running') AS running
            """
        ).single()  // a SELECT without FROM returns exactly one row
        let byState: [String: Int] = ["queued": try depth.decode("queued"), "running": try depth.decode("running")]
        let finished = try await connection.query(
            """
            SELECT state, count(*) AS n FROM orchestrator.jobs
            WHERE finished_at > now() - interval '24 hours' AND state IN ('succeeded', 'failed', 'cancelled')
            GROUP BY state
            """
        )
        var finishedByState = Dictionary(uniqueKeysWithValues: JobState.allCases.filter(\.isFinished).map { ($0.rawValue, 0) })
        for row in finished.rows { finishedByState[try row.decode("state")] = try row.decode("n") }
        let summary = try await connection.query(
            """
            SELECT (SELECT min(created_at) FROM orchestrator.jobs WHERE state = 'queued') AS oldest_queued,
                   (SELECT extract(epoch FROM now() - min(run_at))::float8 FROM orchestrator.jobs
                     WHERE state = 'queued' AND run_at <= now()) AS oldest_wait,
                   (SELECT count(*) FROM orchestrator.job_runs
                     WHERE status IN ('failed', 'timed_out', 'abandoned') AND finished_at > now() - interval '24 hours') AS failed_24h,
                   (SELECT max(version) FROM orchestrator.schema_migrations) AS schema_version
            """
        )
        let row = try summary.single()  // a SELECT without FROM returns exactly one row
        return QueueStatus(
            workersAlive: alive,
            jobsByState: byState,
            finishedLast24h: finishedByState,
            oldestQueuedAt: try row.decodeIfPresent("oldest_queued"),
            oldestRunnableWaitSeconds: try row.decodeIfPresent("oldest_wait"),
            failedLast24h: try row.decode("failed_24h"),
            schemaVersion: try row.decodeIfPresent("schema_version")
        )
    }
}
