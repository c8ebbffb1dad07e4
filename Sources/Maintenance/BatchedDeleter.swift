import Foundation
import Logging
import PostgresClient
import Settings

/// Deletes old rows of one table in short batches, each batch one autocommit DELETE (a short
/// transaction that holds row locks only on its own batch). A keyset walk (`DeleteWalk`) picks
/// each batch where the last one ended; `BatchSizer` starts small and sizes batches from their
/// measured time to stay under the target batch time. Cancelling stops after the current batch;
/// committed batches stay deleted.
package struct BatchedDeleter: Sendable {
    let policy: RetentionDeletePolicy
    let logger: Logger
    /// Work done in each batch's own statement on the rows it deletes (history rollup).
    var companion: DeleteCompanion? = nil

    package init(policy: RetentionDeletePolicy, logger: Logger, companion: DeleteCompanion? = nil) {
        self.policy = policy
        self.logger = logger
        self.companion = companion
    }

    package struct Report: Sendable {
        package var rows: Int64 = 0
        /// What the companion counted over all batches.
        package var companionRows: Int64 = 0
        package var batches = 0
        package var longestBatchMs = 0.0
        package var walBytes: Int64 = 0
        package var cutoff = Date()
        package var wouldDelete: Int64?
        /// How the batches were found: `index NAME` or `primary key`.
        package var walk = ""
        /// From the first batch to the end of the last one (sleeps included, ANALYZE not).
        package var deleteMs = 0.0
        package var analyzeMs = 0.0
        /// Why the ANALYZE after the deletes was not run (the role may not analyze the table).
        package var analyzeSkipped: String?
    }

    /// A run that failed after it began deleting: the batches already committed stay deleted,
    /// and the report says how many.
    package struct Interrupted: Error, CustomStringConvertible {
        package let report: Report
        package let underlying: any Error
        package var description: String { "\(underlying)" }
    }

    /// The table, its timestamp column, its single-column primary key (nil for a composite
    /// or missing one) and, when there is one, a btree index that starts with the timestamp
    /// column, checked in the catalog, with what the role may do to the table.
    struct Target: Sendable {
        let table: TableReference
        let column: String
        let key: String?
        let timestampIndex: String?
        let privileges: TablePrivileges
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
            throw MaintenanceError("column \(policy.column.debugDescription) does not exist in \(table.display)")
        }
        let type: String = try column.decode("type")
        guard type.hasPrefix("timestamp") || type == "date" else {
            throw MaintenanceError("column \(policy.column) of \(table.display) is \(type), not a timestamp or date")
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
        let keyColumns: [String] = try keys.rows.map { try $0.decode("attname") }
        let index: String? = try await connection.query(
            """
            SELECT ic.relname FROM pg_index i
            JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
            WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3
              AND am.amname = 'btree' AND i.indisvalid AND i.indpred IS NULL
            ORDER BY i.indnatts, ic.relname LIMIT 1
            """,
            [table.schema, table.name, policy.column]
        ).first?.decode("relname")
        // Walking by the timestamp index needs no key (ties are split by ctid); walking by key
        // needs one column to order and bound the ranges by.
        if index == nil && keyColumns.count != 1 {
            let why = keyColumns.isEmpty ? "has no primary key" : "has a composite primary key (\(keyColumns.joined(separator: ", ")))"
            throw MaintenanceError(
                "\(table.display) \(why) and no btree index starting with \(policy.column); batched deletes walk one of them: "
                    + "CREATE INDEX CONCURRENTLY ON \(try table.quoted) (\(try SQLIdentifier.quoted(policy.column)))"
            )
        }
        let privileges = try await TablePrivileges.of(table, on: connection)
        if let refusal = privileges.deleteRefusal { throw MaintenanceError(refusal) }
        return Target(table: table, column: policy.column, key: keyColumns.count == 1 ? keyColumns[0] : nil,
                      timestampIndex: index, privileges: privileges)
    }

    package func run(on connection: PostgresConnection, dryRun: Bool) async throws -> Report {
        let target = try await resolve(on: connection)
        var report = Report()
        // The boundary is fixed once, so rows do not become eligible while the run goes on. It
        // travels as the server's own text, so every statement compares against the same value.
        let boundary = try await connection.query(
            "SELECT (now() - make_interval(days => $1))::text AS cutoff", [policy.keepDays]
        ).single()  // a SELECT without FROM returns one row
        let cutoff: String = try boundary.decode("cutoff")
        report.cutoff = try boundary.decode("cutoff")
        let table = try target.table.quoted
        let column = try SQLIdentifier.quoted(target.column)
        let extra = policy.condition.map { " AND (\($0))" } ?? ""
        if dryRun {
            report.wouldDelete = try await connection.query(
                "SELECT count(*) AS n FROM \(table) WHERE \(column) < $1\(extra)", [cutoff]
            ).first?.decode("n")
            return report
        }
        var walk = DeleteWalk(
            order: target.timestampIndex.map { .timestamp(index: $0) } ?? .key,
            table: table, column: column, key: try target.key.map { try SQLIdentifier.quoted($0) } ?? "ctid",
            condition: policy.condition, cutoff: cutoff, companion: companion
        )
        report.walk = target.timestampIndex.map { "index \($0)" } ?? "primary key"
        let startLSN: String = try await connection.query("SELECT pg_current_wal_lsn()::text AS lsn").single().decode("lsn")
        let started = ContinuousClock.now
        do {
            try await deleteAll(&walk, report: &report, on: connection)
        } catch {
            throw Interrupted(report: report, underlying: error)
        }
        report.deleteMs = (ContinuousClock.now - started).seconds * 1000
        report.walBytes = try await connection.query(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint AS bytes", [startLSN]
        ).single().decode("bytes")
        // ANALYZE by a role that may not is skipped by the server with a warning; say so instead.
        if let refusal = target.privileges.refusal(.analyze) {
            logger.warning("ANALYZE after retention skipped", metadata: ["db.table": "\(target.table.display)", "reason": "\(refusal)"])
            report.analyzeSkipped = refusal
            return report
        }
        let analyzing = ContinuousClock.now
        try await connection.execute("ANALYZE \(table)")
        report.analyzeMs = (ContinuousClock.now - analyzing).seconds * 1000
        return report
    }

    private func deleteAll(_ walk: inout DeleteWalk, report: inout Report, on connection: PostgresConnection) async throws {
        var sizer = BatchSizer(first: policy.batchSize, targetMs: policy.targetBatchMs)
        while !walk.finished {
            try Task.checkCancellation()
            guard let batch = try await walk.next(size: sizer.size, on: connection) else { continue }
            report.rows += Int64(batch.deleted)
            report.companionRows += Int64(batch.companionRows)
            report.batches += 1
            report.longestBatchMs = max(report.longestBatchMs, batch.milliseconds)
            sizer.record(rows: batch.covered, milliseconds: batch.milliseconds)
            logger.debug("retention batch", metadata: [
                "retention.rows": "\(batch.deleted)", "retention.batch_ms": "\(batch.milliseconds)",
                "retention.next_size": "\(sizer.size)",
            ])
            if policy.sleepMs > 0 && !walk.finished { try await Task.sleep(for: .milliseconds(policy.sleepMs)) }
        }
    }
}
