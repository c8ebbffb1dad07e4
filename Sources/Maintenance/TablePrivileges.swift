import PostgresClient

/// What the session's role may do to a table, checked in the catalog before a statement runs,
/// and the grant that fixes what is missing. PostgreSQL refuses a DELETE with a bare
/// "permission denied", and skips a VACUUM or ANALYZE it may not do with only a WARNING.
package struct TablePrivileges: Sendable {
    package enum Operation: String, Sendable {
        case vacuum = "VACUUM", analyze = "ANALYZE", reindex = "REINDEX"
    }

    let table: TableReference
    let role: String
    let owner: String
    /// `server_version_num`: PostgreSQL 17 added the MAINTAIN privilege and `pg_maintain`.
    let serverVersion: Int
    let ownsTable: Bool
    let ownsDatabase: Bool
    /// MAINTAIN on the table (17+, directly or through `pg_maintain`); false before 17.
    let maintain: Bool
    let select: Bool
    let delete: Bool

    package static func of(_ table: TableReference, on connection: PostgresConnection) async throws -> TablePrivileges {
        let row = try await connection.query(
            """
            SELECT current_user AS role, pg_get_userbyid(c.relowner) AS owner,
                   current_setting('server_version_num')::int AS version,
                   pg_has_role(current_user, c.relowner, 'USAGE') AS owns_table,
                   (SELECT pg_has_role(current_user, d.datdba, 'USAGE') FROM pg_database d WHERE d.datname = current_database()) AS owns_database,
                   CASE WHEN current_setting('server_version_num')::int >= 170000 THEN has_table_privilege(c.oid, 'MAINTAIN') ELSE false END AS maintain,
                   has_table_privilege(c.oid, 'SELECT') AS can_select, has_table_privilege(c.oid, 'DELETE') AS can_delete
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2
            """,
            [table.schema, table.name]
        ).first
        guard let row else { throw MaintenanceError("table \(table.display) does not exist in this database") }
        return TablePrivileges(
            table: table, role: try row.decode("role"), owner: try row.decode("owner"), serverVersion: try row.decode("version"),
            ownsTable: try row.decode("owns_table"), ownsDatabase: try row.decodeIfPresent("owns_database") ?? false,
            maintain: try row.decode("maintain"), select: try row.decode("can_select"), delete: try row.decode("can_delete")
        )
    }

    /// Why the role may not run `operation` on the table, with the fix; nil when it may.
    /// Before 17 only the table's owner (or, for VACUUM and ANALYZE, the database's owner) may;
    /// from 17 also a role with MAINTAIN on it.
    package func refusal(_ operation: Operation) -> String? {
        if ownsTable || maintain || (ownsDatabase && operation != .reindex) { return nil }
        let name = (try? table.quoted) ?? table.display
        let grantee = (try? SQLIdentifier.quoted(role)) ?? role
        if serverVersion >= 170000 {
            return "role \(role) may not \(operation.rawValue) \(table.display) (owner \(owner)); missing the MAINTAIN privilege: "
                + "GRANT pg_maintain TO \(grantee); or GRANT MAINTAIN ON \(name) TO \(grantee)"
        }
        let owners = operation == .reindex ? "only its owner" : "only its owner or the database's owner"
        return "role \(role) may not \(operation.rawValue) \(table.display): on PostgreSQL \(serverVersion / 10000) \(owners) may "
            + "(owner \(owner)); run this job as that role, or ALTER TABLE \(name) OWNER TO \(grantee) (PostgreSQL 17+: GRANT pg_maintain TO \(grantee))"
    }

    /// Why retention may not delete from the table, with the grant; nil when it may.
    var deleteRefusal: String? {
        let missing = [select ? nil : "SELECT", delete ? nil : "DELETE"].compactMap { $0 }
        guard !missing.isEmpty else { return nil }
        let name = (try? table.quoted) ?? table.display
        let grantee = (try? SQLIdentifier.quoted(role)) ?? role
        return "role \(role) lacks \(missing.joined(separator: " and ")) on \(table.display) (retention needs SELECT and DELETE): "
            + "GRANT \(missing.joined(separator: ", ")) ON \(name) TO \(grantee)"
    }
}

extension TablePrivileges {
    /// The error of a maintenance job that was refused every table it was asked to work on.
    package static func nothingDone(_ command: String, refusals: [String]) -> String {
        let more = refusals.count > 1 ? " (and \(refusals.count - 1) more tables refused the same way; see the result)" : ""
        return "\(command) did nothing: \(refusals.first ?? "no table to work on")\(more)"
    }
}
