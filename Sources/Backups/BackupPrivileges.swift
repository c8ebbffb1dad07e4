import PostgresClient

/// What backups and restores need of the database role: pg_dump reads everything, restores
/// and drills create databases.
package enum BackupPrivileges {
    /// pg_dump reads every schema, table and sequence of the database; it stops at the first
    /// one it may not read.
    package static func dumpProblem(on connection: PostgresConnection) async throws -> String? {
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

    /// Restores and drills create a database (a scratch one for drills).
    package static func createDatabaseProblem(on connection: PostgresConnection) async throws -> String? {
        try await missing(.createDatabase, on: connection) { role, quoted in
            "role \(role) may not create databases, which restores and drills do: ALTER ROLE \(quoted) CREATEDB"
        }
    }

    /// pg_basebackup copies the cluster over a replication connection.
    package static func replicationProblem(on connection: PostgresConnection) async throws -> String? {
        try await missing(.replication, on: connection) { role, quoted in
            "role \(role) may not copy the cluster (pg_basebackup): ALTER ROLE \(quoted) REPLICATION, and allow it a replication line in pg_hba.conf"
        }
    }

    /// A role attribute (a `pg_roles` column; superuser has them all).
    private enum Attribute: String {
        case createDatabase = "rolcreatedb", replication = "rolreplication"
    }

    /// nil when the current role has `attribute`, else `problem(role, quoted role)`.
    private static func missing(
        _ attribute: Attribute, on connection: PostgresConnection, problem: (String, String) -> String
    ) async throws -> String? {
        let row = try await connection.query(
            "SELECT current_user AS role, \(attribute.rawValue) OR rolsuper AS has FROM pg_roles WHERE rolname = current_user"
        ).first
        guard let row, try !row.decode("has", as: Bool.self) else { return nil }
        let role: String = try row.decode("role")
        return problem(role, try SQLIdentifier.quoted(role))
    }
}
