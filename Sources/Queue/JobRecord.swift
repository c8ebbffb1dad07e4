import Foundation
import PostgresClient
import Support

/// A job row as people see it (`jobs list`, `jobs show`, `--json`).
package struct JobRecord: Sendable, Codable, Equatable {
    package let id: Int64
    package let kind: String
    package let target: String?
    package let args: JSONValue
    package let queue: String
    package let priority: Int
    package let state: JobState
    package let runAt: Date
    package let attempts: Int
    package let maxAttempts: Int
    package let timeoutSeconds: Int
    package let lockedBy: String?
    package let leaseUntil: Date?
    package let concurrencyKey: String?
    package let uniqueKey: String?
    package let scheduleName: String?
    package let scheduledFor: Date?
    package let enqueuedBy: String
    package let createdAt: Date
    package let startedAt: Date?
    package let finishedAt: Date?
    package let cancelRequestedAt: Date?
    package let lastError: String?

    static let columns = """
        id, kind, target, args::text AS args, queue, priority, state, run_at, attempts, max_attempts, timeout_seconds,
        locked_by, lease_until, concurrency_key, unique_key, schedule_name, scheduled_for, enqueued_by,
        created_at, started_at, finished_at, cancel_requested_at, last_error
        """

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        kind = try row.decode("kind")
        target = try row.decodeIfPresent("target")
        args = try JSONValue.parse(try row.decode("args"))
        queue = try row.decode("queue")
        priority = try row.decode("priority")
        state = try row.decode("state")
        runAt = try row.decode("run_at")
        attempts = try row.decode("attempts")
        maxAttempts = try row.decode("max_attempts")
        timeoutSeconds = try row.decode("timeout_seconds")
        lockedBy = try row.decodeIfPresent("locked_by")
        leaseUntil = try row.decodeIfPresent("lease_until")
        concurrencyKey = try row.decodeIfPresent("concurrency_key")
        uniqueKey = try row.decodeIfPresent("unique_key")
        scheduleName = try row.decodeIfPresent("schedule_name")
        scheduledFor = try row.decodeIfPresent("scheduled_for")
        enqueuedBy = try row.decode("enqueued_by")
        createdAt = try row.decode("created_at")
        startedAt = try row.decodeIfPresent("started_at")
        finishedAt = try row.decodeIfPresent("finished_at")
        cancelRequestedAt = try row.decodeIfPresent("cancel_requested_at")
        lastError = try row.decodeIfPresent("last_error")
    }
}

/// One attempt (`job_runs` row).
package struct RunRecord: Sendable, Codable, Equatable {
    package let id: Int64
    package let jobID: Int64
    package let attempt: Int
    package let workerID: String
    package let host: String
    package let pid: Int
    package let backendPID: Int?
    package let startedAt: Date
    package let finishedAt: Date?
    package let durationSeconds: Double?
    package let status: RunStatus
    package let result: JSONValue?
    package let error: String?
    package let logTail: String?

    enum CodingKeys: String, CodingKey {
        case id, jobID = "jobId", attempt, workerID = "workerId", host, pid, backendPID = "backendPid"
        case startedAt, finishedAt, durationSeconds, status, result, error, logTail
    }

    static let columns = """
        id, job_id, attempt, worker_id, host, pid, backend_pid, started_at, finished_at,
        extract(epoch FROM duration)::float8 AS duration_seconds, status, result::text AS result, error, log_tail
        """

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        jobID = try row.decode("job_id")
        attempt = try row.decode("attempt")
        workerID = try row.decode("worker_id")
        host = try row.decode("host")
        pid = try row.decode("pid")
        backendPID = try row.decodeIfPresent("backend_pid")
        startedAt = try row.decode("started_at")
        finishedAt = try row.decodeIfPresent("finished_at")
        durationSeconds = try row.decodeIfPresent("duration_seconds")
        status = try row.decode("status")
        result = try row.decodeIfPresent("result", as: String.self).map(JSONValue.parse)
        error = try row.decodeIfPresent("error")
        logTail = try row.decodeIfPresent("log_tail")
    }
}
