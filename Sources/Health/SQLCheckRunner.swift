import PostgresClient
import Settings
import Support

/// Runs `health.sql` checks: SQL from the configuration only, in a read-only transaction with
/// its own statement timeout, expected to return exactly one number (or a boolean: 1/0).
enum SQLCheckRunner {
    static let metric = "check.value"

    static func run(_ name: String, _ check: SQLCheck, on connection: PostgresConnection) async -> HealthSample {
        let details: [String: JSONValue] = ["database": .string(check.database)]
        do {
            try await connection.execute("BEGIN READ ONLY")
            try await connection.query("SELECT set_config('statement_timeout', $1, true)", ["\(check.timeoutSeconds)s"])
            let result = try await connection.query(check.sql)
            try await connection.execute("ROLLBACK")
            return sample(name, check, result, details: details)
        } catch let error as PostgresError {
            _ = try? await connection.execute("ROLLBACK")
            let reason = error.isQueryCanceled ? "timed out after \(check.timeoutSeconds) s" : "\(error)"
            return .failure(.check, name, metric, reason, details: details)
        } catch {
            _ = try? await connection.execute("ROLLBACK")
            return .failure(.check, name, metric, "\(error)", details: details)
        }
    }

    static func sample(_ name: String, _ check: SQLCheck, _ result: QueryResult, details: [String: JSONValue]) -> HealthSample {
        guard result.rows.count == 1, result.columns.count == 1 else {
            return .failure(.check, name, metric, "must return one row with one column, got \(result.rows.count) rows of \(result.columns.count) columns", details: details)
        }
        guard let text = result.rows[0].values[0] else {
            return .failure(.check, name, metric, "returned NULL, expected a number", details: details)
        }
        let value: Double?
        switch text {
        case "t": value = 1
        case "f": value = 0
        default: value = Double(text)
        }
        guard let value else {
            return .failure(.check, name, metric, "returned \(text.prefix(40).debugDescription), expected a number", details: details)
        }
        return HealthSample(.check, name, metric, value: value, unit: check.unit, details: details)
    }
}
