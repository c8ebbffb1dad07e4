import Maintenance
import Queue
import Runtime
import Settings
import Support

/// `vacuum DATABASE [--arg table=T] [--arg analyze=true] [--arg freeze=true] [--arg full=true]
/// [--arg auto=true ...]`: VACUUM table by table (see `TableMaintenance`). `full=true` rewrites
/// tables under an exclusive lock, so it holds the database's concurrency key (no backup or
/// restore of it meanwhile).
package struct VacuumJob: JobKind {
    package init() {}
    package let name = "vacuum"
    package let summary = "VACUUM a configured database table by table (table=T, analyze, freeze, full=true needs explicit opt-in)"
    package let target = TargetRule.required("a database name from the configuration's databases:")
    package let defaultMaxAttempts = 2
    package let defaultTimeoutSeconds = 4 * 3600
    package let placement = Placement.shared

    /// `table` names one table; without it `auto=true` picks tables from statistics (with the
    /// thresholds below), else every table is vacuumed.
    package struct Arguments: JobArguments, Equatable {
        /// `table` and `lock_timeout_ms` mean the same for `analyze`, which shares them.
        static let table = JobArgument.text("table", maxBytes: 127, "only this table (schema.table or table)")
        static let analyze = JobArgument.boolean("analyze", default: false, "also update planner statistics")
        static let freeze = JobArgument.boolean("freeze", default: false, "aggressively freeze tuples")
        static let full = JobArgument.boolean("full", default: false, "rewrite tables (exclusive lock; holds the database's concurrency key)")
        static let auto = JobArgument.boolean(
            "auto", default: false, "pick tables from statistics (dead tuples over threshold and ratio, or XID age), worst first"
        )
        static let deadThreshold = JobArgument.integer("dead_threshold", 0...Int64(Int32.max), default: 10_000, "auto: minimum dead tuples")
        static let deadRatioPercent = JobArgument.integer("dead_ratio_percent", 0...100, default: 10, "auto: minimum dead share of the table")
        static let xidAge = JobArgument.integer(
            "xid_age", 1_000_000...2_000_000_000, default: 150_000_000, "auto: vacuum any table whose XID age is at least this"
        )
        static let budgetSeconds = JobArgument.integer("budget_seconds", 1...86_400, default: 900, "auto: start no table after this long")
        static let lockTimeoutMs = JobArgument.integer(
            "lock_timeout_ms", 1...600_000, default: 5000, "give up on a table whose lock is not granted in time"
        )
        package static let specs = [
            table.spec, analyze.spec, freeze.spec, full.spec, auto.spec, deadThreshold.spec, deadRatioPercent.spec,
            xidAge.spec, budgetSeconds.spec, lockTimeoutMs.spec,
        ]

        package var table: String?
        package var analyze: Bool
        package var freeze: Bool
        package var full: Bool
        package var auto: Bool
        package var deadThreshold: Int64
        package var deadRatioPercent: Int64
        package var xidAge: Int64
        package var budgetSeconds: Int64
        package var lockTimeoutMs: Int64
    }

    package func validate(target: String?, arguments: Arguments, configuration: Configuration) throws(JobValidationError) -> String? {
        let database = try TableMaintenance.database(target, in: configuration)
        return arguments.full ? "db:\(database.dbname)" : nil
    }

    package func run(_ job: ClaimedJob, arguments: Arguments, context: JobContext) async throws -> [String: JSONValue] {
        guard let database = job.target else { throw PermanentJobError("vacuum needs a database") }
        var options: [String] = []
        if arguments.full { options.append("FULL") }
        if arguments.freeze { options.append("FREEZE") }
        if arguments.analyze { options.append("ANALYZE") }
        let tables: TableMaintenance.Tables
        if let table = arguments.table {
            tables = .one(table)
        } else if arguments.auto {
            tables = .auto(TableMaintenance.AutoSelection(
                deadThreshold: arguments.deadThreshold, deadRatioPercent: arguments.deadRatioPercent, xidAge: arguments.xidAge,
                budget: .seconds(arguments.budgetSeconds)
            ))
        } else {
            tables = .all
        }
        let maintenance = TableMaintenance(
            command: options.isEmpty ? "VACUUM" : "VACUUM (\(options.joined(separator: ", ")))", operation: .vacuum,
            tables: tables, lockTimeoutMs: arguments.lockTimeoutMs
        )
        return try await maintenance.run(database: database, context: context)
    }
}

extension VacuumJob.Arguments {
    package init(_ values: ArgumentValues) throws(JobValidationError) {
        table = try values[Self.table]
        analyze = try values[Self.analyze]
        freeze = try values[Self.freeze]
        full = try values[Self.full]
        auto = try values[Self.auto]
        deadThreshold = try values[Self.deadThreshold]
        deadRatioPercent = try values[Self.deadRatioPercent]
        xidAge = try values[Self.xidAge]
        budgetSeconds = try values[Self.budgetSeconds]
        lockTimeoutMs = try values[Self.lockTimeoutMs]
    }
}

extension VacuumJob {
    /// The role must be allowed to VACUUM the table (or every table) in the target database.
    package func roleChecks(target: String?, arguments: Arguments, configuration: Configuration) -> [RoleCheck] {
        guard let target else { return [] }
        return [RoleCheck(database: target) { try await TablePrivileges.problem(.vacuum, table: arguments.table, on: $0) }]
    }
}
