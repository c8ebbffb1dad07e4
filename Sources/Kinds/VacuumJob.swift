import Foundation
import Maintenance
import PostgresClient
import Queue
import Runtime
import Settings
import Support

/// `vacuum DATABASE [--arg table=T] [--arg analyze=true] [--arg freeze=true] [--arg full=true]`
/// and `analyze DATABASE [--arg table=T]`: run on an autocommit connection (VACUUM cannot run in a
/// transaction) with `lock_timeout`, table by table, recording dead tuples and size before and
/// after. `full=true` rewrites tables under an exclusive lock, so it holds the database's
/// concurrency key (no backup or restore of it meanwhile).
package struct VacuumJob: JobKind {
    package let name: String
    let analyzeOnly: Bool

    package init(analyzeOnly: Bool = false) {
        self.analyzeOnly = analyzeOnly
        self.name = analyzeOnly ? "analyze" : "vacuum"
    }

    package var summary: String {
        analyzeOnly ? "ANALYZE a configured database (one table with table=T)"
            : "VACUUM a configured database table by table (table=T, analyze, freeze, full=true needs explicit opt-in)"
    }
    package let target = TargetRule.required("a database name from the configuration's databases:")
    package var arguments: [ArgumentSpec] {
        var specs = [ArgumentSpec("table", .text(maxBytes: 127), "only this table (schema.table or table)")]
        if !analyzeOnly {
            specs += [
                ArgumentSpec("analyze", .boolean, "also update planner statistics"),
                ArgumentSpec("freeze", .boolean, "aggressively freeze tuples"),
                ArgumentSpec("full", .boolean, "rewrite tables (exclusive lock; holds the database's concurrency key)"),
                ArgumentSpec("auto", .boolean, "pick tables from statistics (dead tuples over threshold and ratio, or XID age), worst first"),
                ArgumentSpec("dead_threshold", .integer(0...Int64(Int32.max)), "auto: minimum dead tuples (default 10000)"),
                ArgumentSpec("dead_ratio_percent", .integer(0...100), "auto: minimum dead share of the table (default 10)"),
                ArgumentSpec("xid_age", .integer(1_000_000...2_000_000_000), "auto: vacuum any table whose XID age is at least this (default 150000000)"),
                ArgumentSpec("budget_seconds", .integer(1...86_400), "auto: start no table after this long (default 900)"),
            ]
        }
        specs.append(ArgumentSpec("lock_timeout_ms", .integer(1...600_000), "give up on a table whose lock is not granted in time (default 5000)"))
        return specs
    }
    package let defaultMaxAttempts = 2
    package let defaultTimeoutSeconds = 4 * 3600
    package let placement = Placement.shared

    package func validate(target: String?, arguments: [String: JSONValue], configuration: Configuration) throws(JobValidationError) -> String? {
        guard let target, let database = configuration.databases[target] else {
            let known = configuration.databases.keys.sorted()
            throw JobValidationError("unknown database \((target ?? "").debugDescription); configured databases: \(known.isEmpty ? "none (add them under databases:)" : known.joined(separator: ", "))")
        }
        return arguments["full"]?.boolValue == true ? "db:\(database.dbname)" : nil
    }

    package func run(_ job: ClaimedJob, context: JobContext) async throws -> [String: JSONValue] {
        guard let database = job.target else { throw PermanentJobError("\(name) needs a database") }
        let lockTimeout = job.arguments["lock_timeout_ms"]?.intValue ?? 5000
        var options: [String] = []
        if analyzeOnly {
            options = []
        } else {
            if job.arguments["full"]?.boolValue == true { options.append("FULL") }
            if job.arguments["freeze"]?.boolValue == true { options.append("FREEZE") }
            if job.arguments["analyze"]?.boolValue == true { options.append("ANALYZE") }
        }
        let command = analyzeOnly ? "ANALYZE" : (options.isEmpty ? "VACUUM" : "VACUUM (\(options.joined(separator: ", ")))")
        return try await context.withDatabase(database) { connection in
            try await connection.query("SELECT set_config('lock_timeout', $1, false)", ["\(lockTimeout)ms"])
            let tables: [TableReference]
            let auto = job.arguments["auto"]?.boolValue ?? false
            if let table = job.arguments["table"]?.stringValue {
                tables = [try await TableReference.resolve(table, on: connection)]
            } else if auto {
                tables = try await Self.candidates(job: job, on: connection)
            } else {
                tables = try await TableReference.all(on: connection)
            }
            let budget = Duration.seconds(job.arguments["budget_seconds"]?.intValue ?? 900)
            let runStarted = ContinuousClock.now
            var deferred: [JSONValue] = []
            var results: [JSONValue] = []
            var skipped: [JSONValue] = []
            var refused: [(table: String, reason: String)] = []
            for table in tables {
                try Task.checkCancellation()
                if auto && ContinuousClock.now - runStarted > budget {
                    deferred.append(.string(table.display))  // over the time budget: next run
                    continue
                }
                // The server skips a table the role may not maintain with only a WARNING.
                if let reason = try await TablePrivileges.of(table, on: connection).refusal(analyzeOnly ? .analyze : .vacuum) {
                    context.logger.warning("table not permitted; skipped", metadata: ["db.table": "\(table.display)", "reason": "\(reason)"])
                    refused.append((table.display, reason))
                    continue
                }
                do {
                    switch try await Self.process(table, command: command, on: connection, context: context) {
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
    static func candidates(job: ClaimedJob, on connection: PostgresConnection) async throws -> [TableReference] {
        let rows = try await connection.query(
            """
            SELECT s.schemaname, s.relname
            FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
            WHERE (s.n_dead_tup >= $1 AND s.n_dead_tup * 100.0 >= (s.n_live_tup + s.n_dead_tup) * $2)
               OR age(c.relfrozenxid) >= $3
            ORDER BY greatest(s.n_dead_tup::float8 / greatest(s.n_live_tup + s.n_dead_tup, 1), age(c.relfrozenxid)::float8 / $3) DESC,
                     s.n_dead_tup DESC
            """,
            [job.arguments["dead_threshold"]?.intValue ?? 10_000, job.arguments["dead_ratio_percent"]?.intValue ?? 10,
             job.arguments["xid_age"]?.intValue ?? 150_000_000]
        )
        return try rows.rows.map { TableReference(schema: try $0.decode("schemaname"), name: try $0.decode("relname")) }
    }

    private static func process(_ table: TableReference, command: String, on connection: PostgresConnection, context: JobContext) async throws -> TableOutcome {
        let before = try await stats(of: table, on: connection)
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
        let after = try await stats(of: table, on: connection)
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
