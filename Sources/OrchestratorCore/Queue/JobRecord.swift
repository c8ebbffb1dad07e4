import Foundation
import PostgresClient

/// A job row as people see it (`jobs list`, `jobs show`, `--json`).
public struct JobRecord: Sendable, Codable, Equatable {
    public let id: Int64
    public let kind: String
    public let target: String?
    public let args: JSONValue
    public let queue: String
    public let priority: Int
    public let state: JobState
    public let runAt: Date
    public let attempts: Int
    public let maxAttempts: Int
    public let timeoutSeconds: Int
    public let lockedBy: String?
    public let leaseUntil: Date?
    public let concurrencyKey: String?
    public let uniqueKey: String?
    public let scheduleName: String?
    public let scheduledFor: Date?
    public let enqueuedBy: String
    public let createdAt: Date
    public let startedAt: Date?
    public let finishedAt: Date?
    public let cancelRequestedAt: Date?
    public let lastError: String?

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
public struct RunRecord: Sendable, Codable, Equatable {
    public let id: Int64
    public let jobID: Int64
    public let attempt: Int
    public let workerID: String
    public let host: String
    public let pid: Int
    public let backendPID: Int?
    public let startedAt: Date
    public let finishedAt: Date?
    public let durationSeconds: Double?
    public let status: RunStatus
    public let result: JSONValue?
    public let error: String?
    public let logTail: String?

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
