import Foundation
import Maintenance
import PostgresClient
import Queue
import Runtime
import Settings
import Support

/// One VACUUM or ANALYZE run over a database, table by table, for the `vacuum` and `analyze`
/// kinds: on an autocommit connection (VACUUM cannot run in a transaction) with `lock_timeout`,
/// recording dead tuples and size before and after each table.
struct TableMaintenance: Sendable {
    enum Tables: Sendable {
        case one(String)
        /// Picked from statistics, worst first; no table starts after the budget.
        case auto(AutoSelection)
        case all
    }

    struct AutoSelection: Sendable {
        let deadThreshold: Int64
        let deadRatioPercent: Int64
        let xidAge: Int64
        let budget: Duration
    }

    /// `VACUUM (FULL, ANALYZE)`, `ANALYZE`, ...
    let command: String
    let operation: TablePrivileges.Operation
    let tables: Tables
    let lockTimeoutMs: Int64

    /// The configured database a job names, with the configured ones in the message when unknown.
    static func database(_ target: String?, in configuration: Configuration) throws(JobValidationError) -> TargetDatabase {
        guard let target, let database = configuration.databases[target] else {
            let known = configuration.databases.keys.sorted()
            throw JobValidationError("unknown database \((target ?? "").debugDescription); configured databases: \(known.isEmpty ? "none (add them under databases:)" : known.joined(separator: ", "))")
        }
        return database
    }

    func run(database: String, context: JobContext) async throws -> [String: JSONValue] {
        try await context.withDatabase(database) { connection in
            try await connection.query("SELECT set_config('lock_timeout', $1, false)", ["\(lockTimeoutMs)ms"])
            let selected: [TableReference]
            var budget: Duration?
            switch tables {
            case .one(let table):
                selected = [try await TableReference.resolve(table, on: connection)]
            case .auto(let selection):
                selected = try await Self.candidates(selection, on: connection)
                budget = selection.budget
            case .all:
                selected = try await TableReference.all(on: connection)
            }
            let runStarted = ContinuousClock.now
            var deferred: [JSONValue] = []
            var results: [JSONValue] = []
            var skipped: [JSONValue] = []
            var refused: [(table: String, reason: String)] = []
            for table in selected {
                try Task.checkCancellation()
                if let budget, ContinuousClock.now - runStarted > budget {
                    deferred.append(.string(table.display))  // over the time budget: next run
                    continue
                }
                // The server skips a table the role may not maintain with only a WARNING.
                if let reason = try await TablePrivileges.of(table, on: connection).refusal(operation) {
                    context.logger.warning("table not permitted; skipped", metadata: ["db.table": "\(table.display)", "reason": "\(reason)"])
                    refused.append((table.display, reason))
                    continue
                }
                do {
                    switch try await process(table, on: connection, context: context) {
                    case .done(let entry): results.append(entry)
                    case .skippedByServer(let reason): refused.append((table.display, reason))
                    }
                } catch let error as PostgresError where error.sqlState == "55P03" {
                    // lock_not_available: someone holds the table; skip it rather than queue behind them.
                    context.logger.warning("table locked; skipped", metadata: ["db.table": "\(table.display)"])
                    skipped.append(.string(table.display))
                }
            }
            let result: [String: JSONValue] = [
                "command": .string(command), "tables": .array(results), "skipped_locked": .array(skipped),
                "skipped_not_permitted": .array(refused.map { .object(["table": .string($0.table), "reason": .string($0.reason)]) }),
                "deferred_over_budget": .array(deferred),
            ]
            if results.isEmpty && !refused.isEmpty {
                throw JobFailure(TablePrivileges.nothingDone(command, refusals: refused.map(\.reason)), result: result, permanent: true)
            }
            return result
        }
    }

    enum TableOutcome {
        case done(JSONValue)
        /// The statement succeeded but the server said it skipped the table.
        case skippedByServer(reason: String)
    }

    /// Tables worth vacuuming now, worst first: dead share or XID age relative to its threshold.
    static func candidates(_ selection: AutoSelection, on connection: PostgresConnection) async throws -> [TableReference] {
        let rows = try await connection.query(
            """
            SELECT s.schemaname, s.relname
            FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
            WHERE (s.n_dead_tup >= $1 AND s.n_dead_tup * 100.0 >= (s.n_live_tup + s.n_dead_tup) * $2)
               OR age(c.relfrozenxid) >= $3
            ORDER BY greatest(s.n_dead_tup::float8 / greatest(s.n_live_tup + s.n_dead_tup, 1), age(c.relfrozenxid)::float8 / $3) DESC,
                     s.n_dead_tup DESC
            """,
            [selection.deadThreshold, selection.deadRatioPercent, selection.xidAge]
        )
        return try rows.rows.map { TableReference(schema: try $0.decode("schemaname"), name: try $0.decode("relname")) }
    }

    private func process(_ table: TableReference, on connection: PostgresConnection, context: JobContext) async throws -> TableOutcome {
        let before = try await Self.stats(of: table, on: connection)
        _ = connection.takeNotices()
        let started = ContinuousClock.now
        try await connection.execute("\(command) \(try table.quoted)")
        let seconds = (ContinuousClock.now - started).seconds
        // Catalog checks cannot foresee every refusal (a privilege revoked meanwhile); the
        // server's own "skipping" warning is the last word.
        let warnings = connection.takeNotices().filter(\.isWarning)
        if let skip = warnings.first(where: { $0.message.contains("skipping") }) {
            return .skippedByServer(reason: skip.message)
        }
        try await connection.query("SELECT pg_stat_clear_snapshot()")
        let after = try await Self.stats(of: table, on: connection)
        context.logger.info("maintenance done", metadata: [
            "db.table": "\(table.display)", "maintenance.command": "\(command)", "dead.before": "\(before.dead)", "dead.after": "\(after.dead)",
        ])
        var entry: [String: JSONValue] = [
            "table": .string(table.display), "seconds": .double(seconds),
            "dead_tuples_before": .int(before.dead), "dead_tuples_after": .int(after.dead),
            "bytes_before": .int(before.bytes), "bytes_after": .int(after.bytes),
        ]
        if !warnings.isEmpty { entry["warnings"] = .array(warnings.map { .string($0.message) }) }
        return .done(.object(entry))
    }

    static func stats(of table: TableReference, on connection: PostgresConnection) async throws -> (dead: Int64, bytes: Int64) {
        let row = try await connection.query(
            """
            SELECT coalesce(s.n_dead_tup, 0) AS dead, pg_total_relation_size(c.oid) AS bytes
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
            WHERE n.nspname = $1 AND c.relname = $2
            """,
            [table.schema, table.name]
        ).first
        return (try row?.decode("dead") ?? 0, try row?.decode("bytes") ?? 0)
    }
}
