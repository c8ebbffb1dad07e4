import Maintenance
import Queue
import Runtime
import Settings
import Support

/// `analyze DATABASE [--arg table=T]`: ANALYZE table by table (see `TableMaintenance`),
/// recorded like `vacuum`.
package struct AnalyzeJob: JobKind {
    package init() {}
    package let name = "analyze"
    package let summary = "ANALYZE a configured database (one table with table=T)"
    package let target = TargetRule.required("a database name from the configuration's databases:")
    package let defaultMaxAttempts = 2
    package let defaultTimeoutSeconds = 4 * 3600
    package let placement = Placement.shared

    /// The two `vacuum` arguments that apply to ANALYZE, declared there.
    package struct Arguments: JobArguments, Equatable {
        package static let specs = [VacuumJob.Arguments.table.spec, VacuumJob.Arguments.lockTimeoutMs.spec]

        package var table: String?
        package var lockTimeoutMs: Int64
    }

    package func validate(target: String?, arguments: Arguments, configuration: Configuration) throws(JobValidationError) -> String? {
        _ = try TableMaintenance.database(target, in: configuration)
        return nil
    }

    package func run(_ job: ClaimedJob, arguments: Arguments, context: JobContext) async throws -> [String: JSONValue] {
        guard let database = job.target else { throw PermanentJobError("analyze needs a database") }
        let maintenance = TableMaintenance(
            command: "ANALYZE", operation: .analyze, tables: arguments.table.map { .one($0) } ?? .all, lockTimeoutMs: arguments.lockTimeoutMs
        )
        return try await maintenance.run(database: database, context: context)
    }
}

extension AnalyzeJob.Arguments {
    package init(_ values: ArgumentValues) throws(JobValidationError) {
        table = try values[VacuumJob.Arguments.table]
        lockTimeoutMs = try values[VacuumJob.Arguments.lockTimeoutMs]
    }
}

extension AnalyzeJob {
    /// The role must be allowed to ANALYZE the table (or every table) in the target database.
    package func roleChecks(target: String?, arguments: Arguments, configuration: Configuration) -> [RoleCheck] {
        guard let target else { return [] }
        return [RoleCheck(database: target) { try await TablePrivileges.problem(.analyze, table: arguments.table, on: $0) }]
    }
}
