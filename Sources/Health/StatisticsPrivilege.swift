import PostgresClient

/// Health sampling sees other roles' sessions (long transactions, waiting locks) only with
/// `pg_read_all_stats`.
package enum StatisticsPrivilege {
    package static func problem(on connection: PostgresConnection) async throws -> String? {
        let row = try await connection.query(
            "SELECT current_user AS role, pg_has_role('pg_read_all_stats', 'USAGE') AS reads_all"
        ).single()  // a SELECT without FROM returns one row
        guard try !row.decode("reads_all", as: Bool.self) else { return nil }
        let role: String = try row.decode("role")
        return "role \(role) cannot see other roles' sessions (long transactions, waiting locks): GRANT pg_read_all_stats TO \(try SQLIdentifier.quoted(role))"
    }
}
