import Database
import Foundation
import PostgresClient
import Settings

/// What each scheduled job needs of the database role it runs as, checked in the catalogs by
/// `config check --databases`: a missing grant is named with the statement that adds it, so
/// it is found when the configuration is written, not by a job that fails (or silently does
/// nothing) at night.
enum PrivilegeChecks {
    /// One problem per schedule and database; at most a few tables are named each.
    static func problems(configuration: Configuration, connector: DatabaseConnector) async -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        for schedule in configuration.schedules where schedule.enabled {
            let path = "schedules.\(schedule.name) (\(schedule.kind)\(schedule.target.map { " \($0)" } ?? ""))"
            for database in databases(of: schedule, in: configuration) {
                guard let target = configuration.databases[database] else { continue }  // reported by validate()
                do {
                    let connection = try await PostgresConnection.connect(try connector.configuration(for: target))
                    defer { connection.close() }
                    if let problem = try await check(schedule, on: connection) {
                        problems.append(ConfigurationError(path: path, "database \(database): \(problem)"))
                    }
                } catch {
                    problems.append(ConfigurationError(path: path, "cannot check privileges in database \(target.dbname): \(error)"))
                }
            }
        }
        return problems
    }

    /// The `databases:` keys a scheduled job works on.
    static func databases(of schedule: ScheduleDefinition, in configuration: Configuration) -> [String] {
        switch schedule.kind {
        case "vacuum", "analyze", "reindex":
            return schedule.target.map { [$0] } ?? []
        case "health":
            return configuration.health.databases ?? configuration.databases.keys.sorted()
        case "backup":
            return schedule.target.flatMap { configuration.backups.profiles[$0]?.databases } ?? []
        case "restore", "restore-drill":
            let profiles = schedule.args["profile"].map { [$0] } ?? configuration.backups.profiles.keys.sorted()
            return Array(Set(profiles.flatMap { configuration.backups.profiles[$0]?.databases ?? [] })).sorted()
        default:
            return []  // retention policies are checked with their tables; other kinds need no grant
        }
    }

    static func check(_ schedule: ScheduleDefinition, on connection: PostgresConnection) async throws -> String? {
        switch schedule.kind {
        case "vacuum", "analyze", "reindex":
            let operation: TablePrivileges.Operation = schedule.kind == "reindex" ? .reindex : schedule.kind == "analyze" ? .analyze : .vacuum
            let tables = if let table = schedule.args["table"] {
                [try await TableReference.resolve(table, on: connection)]
            } else {
                try await TableReference.all(on: connection)
            }
            var refusals: [String] = []
            for table in tables {
                if let refusal = try await TablePrivileges.of(table, on: connection).refusal(operation) { refusals.append(refusal) }
            }
            guard let first = refusals.first else { return nil }
            return first + (refusals.count > 1 ? " (and \(refusals.count - 1) more tables)" : "")
        case "health":
            let row = try await connection.query(
                "SELECT current_user AS role, pg_has_role('pg_read_all_stats', 'USAGE') AS reads_all"
            ).single()  // a SELECT without FROM returns one row
            guard try !row.decode("reads_all", as: Bool.self) else { return nil }
            let role: String = try row.decode("role")
            return "role \(role) cannot see other roles' sessions (long transactions, waiting locks): GRANT pg_read_all_stats TO \(try SQLIdentifier.quoted(role))"
        case "backup":
            return try await unreadable(on: connection)
        case "restore", "restore-drill":
            let row = try await connection.query(
                "SELECT current_user AS role, rolcreatedb OR rolsuper AS creates FROM pg_roles WHERE rolname = current_user"
            ).first
            guard let row, try !row.decode("creates", as: Bool.self) else { return nil }
            let role: String = try row.decode("role")
            return "role \(role) may not create databases, which restores and drills do: ALTER ROLE \(try SQLIdentifier.quoted(role)) CREATEDB"
        default:
            return nil
        }
    }

    /// pg_dump reads every schema, table and sequence of the database; it stops at the first
    /// one it may not read.
    static func unreadable(on connection: PostgresConnection) async throws -> String? {
        let row = try await connection.query(
            """
            SELECT current_user AS role, count(*) AS n,
                   string_agg(name, ', ' ORDER BY name) FILTER (WHERE rank <= 3) AS names
            FROM (
                SELECT n.nspname || '.' || c.relname AS name, row_number() OVER (ORDER BY n.nspname, c.relname) AS rank
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
                  AND (NOT has_schema_privilege(n.oid, 'USAGE') OR NOT has_table_privilege(c.oid, 'SELECT'))
            ) t
            """
        ).single()  // an aggregate without GROUP BY returns one row
        let count: Int64 = try row.decode("n")
        guard count > 0 else { return nil }
        let role: String = try row.decode("role")
        let names: String = try row.decodeIfPresent("names") ?? ""
        return "role \(role) may not read \(count) tables or sequences that pg_dump must read (\(names)\(count > 3 ? ", ..." : "")): "
            + "GRANT pg_read_all_data TO \(try SQLIdentifier.quoted(role))"
    }
}
