import Foundation
import PostgresClient

extension JobQueue {
    /// How many jobs one claim may take.
    package struct ClaimLimits: Sendable, Equatable {
        /// Jobs of any kind: the worker's idle slots.
        package var anyKind: Int
        /// Further jobs taken ahead of a free slot, only of these kinds (`JobKind.isShort`), so a
        /// burst of short jobs costs one round trip per batch instead of one per job.
        package var shortAhead: Int
        package var shortKinds: [String]

        package init(anyKind: Int, shortAhead: Int = 0, shortKinds: [String] = []) {
            self.anyKind = anyKind
            self.shortAhead = shortAhead
            self.shortKinds = shortKinds
        }

        package var total: Int { anyKind + (shortKinds.isEmpty ? 0 : shortAhead) }
    }

    /// Claims the best runnable jobs in `queues` and opens one run for each, in one statement.
    ///
    /// `FOR UPDATE SKIP LOCKED` lets workers claim concurrently without waiting on each other.
    /// The first `anyKind` candidates (in priority, run_at, id order) are taken whatever their
    /// kind; after them only short kinds. A job whose concurrency key is held by a running job
    /// is skipped, and a batch never holds two jobs of one key; if two workers still race for a
    /// key, the unique index on running keys rejects the later claim, which then tries again.
    /// Jobs come back in the order they should start.
    package static func claim(
        on connection: PostgresConnection, worker: WorkerIdentity, queues: [String], leaseSeconds: Int, limits: ClaimLimits
    ) async throws -> [ClaimedJob] {
        guard limits.total > 0 else { return [] }
        for _ in 0..<10 {
            do {
                let result = try await connection.query(
                    claimStatement,
                    [queues, worker.id, leaseSeconds, worker.host, Int(worker.pid), limits.total, limits.anyKind, limits.shortKinds]
                )
                return try result.rows.map(ClaimedJob.init(row:))
            } catch let error as PostgresError where error.isUniqueViolation {
                continue  // lost a race for a concurrency key; the next candidates may be free
            }
        }
        return []
    }

    /// Claims at most one job of any kind.
    package static func claim(
        on connection: PostgresConnection, worker: WorkerIdentity, queues: [String], leaseSeconds: Int
    ) async throws -> ClaimedJob? {
        try await claim(on: connection, worker: worker, queues: queues, leaseSeconds: leaseSeconds, limits: ClaimLimits(anyKind: 1)).first
    }

    private static let claimStatement = PreparedStatement(
        """
        WITH candidates AS (
            SELECT j.id, j.kind, j.concurrency_key, j.priority, j.run_at
            FROM orchestrator.jobs j
            WHERE j.state = 'queued'
              AND j.queue = ANY ($1::text[])
              AND j.run_at <= now()
              AND (j.concurrency_key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM orchestrator.jobs r
                    WHERE r.state = 'running' AND r.concurrency_key = j.concurrency_key))
            ORDER BY j.priority DESC, j.run_at, j.id
            LIMIT $6
            FOR UPDATE SKIP LOCKED
        ), ranked AS (
            SELECT id, kind, concurrency_key,
                   row_number() OVER (ORDER BY priority DESC, run_at, id) AS place,
                   row_number() OVER (PARTITION BY concurrency_key ORDER BY priority DESC, run_at, id) AS place_in_key
            FROM candidates
        ), picked AS (
            SELECT id FROM ranked
            WHERE (concurrency_key IS NULL OR place_in_key = 1)
              AND (place <= $7 OR kind = ANY ($8::text[]))
        ), claimed AS (
            UPDATE orchestrator.jobs j
            SET state = 'running', attempts = j.attempts + 1, locked_by = $2,
                lease_until = now() + make_interval(secs => $3), started_at = now(),
                finished_at = NULL
            FROM picked
            WHERE j.id = picked.id
            RETURNING j.*
        ), run AS (
            INSERT INTO orchestrator.job_runs (job_id, attempt, worker_id, host, pid)
            SELECT id, attempts, $2, $4, $5 FROM claimed
            RETURNING id AS run_id, job_id
        )
        SELECT claimed.id, run.run_id, claimed.kind, claimed.target, claimed.args::text AS args,
               claimed.queue, claimed.attempts, claimed.max_attempts, claimed.timeout_seconds,
               claimed.concurrency_key
        FROM claimed JOIN run ON run.job_id = claimed.id
        ORDER BY claimed.priority DESC, claimed.run_at, claimed.id
        """
    )

    /// When the earliest queued job in `queues` becomes runnable, to sleep until then.
    package static func nextRunAt(on connection: PostgresConnection, queues: [String]) async throws -> Date? {
        let result = try await connection.query(
            nextRunAtStatement, [queues]
        )
        return try result.first?.decodeIfPresent("next", as: Date.self)
    }

    private static let nextRunAtStatement = PreparedStatement(
        "SELECT min(run_at) AS next FROM orchestrator.jobs WHERE state = 'queued' AND queue = ANY ($1::text[])"
    )
}
