import Foundation
import Logging
import PostgresClient

/// Deletes old rows of one table in primary-key batches, each batch one autocommit statement
/// (a short transaction that holds row locks only on its own batch), sleeping between batches
/// and adapting the batch size to stay under the target batch time. Cancelling stops after the
/// current batch; committed batches stay deleted.
struct BatchedDeleter: Sendable {
    let policy: RetentionDeletePolicy
    let logger: Logger

    struct Report: Sendable {
        var rows: Int64 = 0
        var batches = 0
        var longestBatchMs = 0.0
        var walBytes: Int64 = 0
        var cutoff = Date()
        var wouldDelete: Int64?
    }

    /// The table, its timestamp column and its single-column primary key, checked in the catalog.
    struct Target: Sendable {
        let table: TableReference
        let column: String
        let key: String
    }

    func resolve(on connection: PostgresConnection) async throws -> Target {
        let table = try await TableReference.resolve(policy.table, on: connection)
        let column = try await connection.query(
            """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped
            """,
            [table.schema, table.name, policy.column]
        ).first
        guard let column else {
            throw PermanentJobError("column \(policy.column.debugDescription) does not exist in \(table.display)")
        }
        let type: String = try column.decode("type")
        guard type.hasPrefix("timestamp") || type == "date" else {
            throw PermanentJobError("column \(policy.column) of \(table.display) is \(type), not a timestamp or date")
        }
        let keys = try await connection.query(
            """
            SELECT a.attname FROM pg_index i
            JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)
            WHERE i.indisprimary AND n.nspname = $1 AND c.relname = $2
            """,
            [table.schema, table.name]
        )
        guard keys.rows.count == 1, let key: String = try keys.first?.decode("attname") else {
            throw PermanentJobError("\(table.display) has no single-column primary key; batched deletes need one")
        }
        return Target(table: table, column: policy.column, key: key)
    }

    func run(on connection: PostgresConnection, dryRun: Bool) async throws -> Report {
        let target = try await resolve(on: connection)
        var report = Report()
        // The boundary is fixed once, so rows do not become eligible while the run goes on.
        report.cutoff = try await connection.query(
            "SELECT now() - make_interval(days => $1) AS cutoff", [policy.keepDays]
        ).first!.decode("cutoff")  // a SELECT without FROM returns one row
        let table = try target.table.quoted
        let column = try SQLIdentifier.quoted(target.column)
        let key = try SQLIdentifier.quoted(target.key)
        let extra = policy.condition.map { " AND (\($0))" } ?? ""
        if dryRun {
            report.wouldDelete = try await connection.query(
                "SELECT count(*) AS n FROM \(table) WHERE \(column) < $1\(extra)", [report.cutoff]
            ).first?.decode("n")
            return report
        }
        let startLSN: String = try await connection.query("SELECT pg_current_wal_lsn()::text AS lsn").first!.decode("lsn")
        var batchSize = policy.batchSize
        let targetMs = Double(policy.targetBatchMs)
        while true {
            try Task.checkCancellation()
            let started = ContinuousClock.now
            let deleted = try await connection.query(
                """
                WITH doomed AS (
                    SELECT \(key) FROM \(table) WHERE \(column) < $1\(extra)
                    ORDER BY \(key) LIMIT $2 FOR UPDATE SKIP LOCKED
                )
                DELETE FROM \(table) t USING doomed WHERE t.\(key) = doomed.\(key)
                """,
                [report.cutoff, batchSize]
            ).affectedRows
            let milliseconds = (ContinuousClock.now - started).seconds * 1000
            guard deleted > 0 else { break }
            report.rows += Int64(deleted)
            report.batches += 1
            report.longestBatchMs = max(report.longestBatchMs, milliseconds)
            // Keep each batch's transaction short: shrink fast when over target, grow gently when well under.
            if milliseconds > targetMs {
                batchSize = max(10, Int(Double(batchSize) * targetMs / milliseconds * 0.8))
            } else if milliseconds < targetMs / 2 {
                batchSize = min(policy.batchSize * 10, batchSize + max(1, batchSize / 4))
            }
            if policy.sleepMs > 0 { try await Task.sleep(for: .milliseconds(policy.sleepMs)) }
        }
        report.walBytes = try await connection.query(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint AS bytes", [startLSN]
        ).first!.decode("bytes")
        try await connection.execute("ANALYZE \(table)")
        return report
    }
}
