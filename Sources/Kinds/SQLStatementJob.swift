import PostgresClient
import Queue
import Runtime
import Settings
import Support

/// Runs a statement written in the configuration under a name (`statements:`). The command
/// line only chooses the name, so no SQL ever comes from a job row or a shell.
package struct SQLStatementJob: JobKind {
    package init() {}
    package let name = "sql"
    package let summary = "run a named statement from the configuration's statements: section"
    package let target = TargetRule.required("the name of a statement in the configuration")
    package let defaultMaxAttempts = 3
    package let defaultTimeoutSeconds = 3600
    package let placement = Placement.shared

    package func validate(target: String?, arguments: NoArguments, configuration: Configuration) throws(JobValidationError) -> String? {
        guard let target, let statement = configuration.statements[target] else {
            let known = configuration.statements.keys.sorted()
            throw JobValidationError("unknown statement \((target ?? "").debugDescription); configured statements: \(known.isEmpty ? "none (add them under statements: in the configuration)" : known.joined(separator: ", "))")
        }
        guard let database = configuration.databases[statement.database] else {
            throw JobValidationError("statement \(target) names database \(statement.database.debugDescription), which is not under databases:")
        }
        return "db:\(database.dbname)"
    }

    package func run(_ job: ClaimedJob, arguments: NoArguments, context: JobContext) async throws -> [String: JSONValue] {
        guard let name = job.target, let statement = context.configuration.statements[name] else {
            throw PermanentJobError("statement \((job.target ?? "").debugDescription) is no longer in the configuration")
        }
        return try await context.withDatabase(statement.database) { connection in
            if let timeout = statement.timeoutSeconds {
                try await connection.query("SELECT set_config('statement_timeout', $1, false)", ["\(timeout)s"])
            }
            context.logger.info("running statement", metadata: ["sql.statement": "\(name)"])
            let started = ContinuousClock.now
            let result = try await connection.query(statement.sql)
            let elapsed = ContinuousClock.now - started
            return [
                "statement": .string(name),
                "rows": .int(Int64(result.affectedRows)),
                "seconds": .double(elapsed.seconds),
            ]
        }
    }
}
