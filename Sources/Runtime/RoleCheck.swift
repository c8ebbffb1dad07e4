import PostgresClient

/// One thing a job needs of the database role it runs as, checked in the catalogs of one
/// configured database by `config check --databases`: `problem` names a missing grant and the
/// statement that adds it, or returns nil.
package struct RoleCheck: Sendable {
    /// The `databases:` key to check in.
    package let database: String
    package let problem: @Sendable (PostgresConnection) async throws -> String?

    package init(database: String, problem: @escaping @Sendable (PostgresConnection) async throws -> String?) {
        self.database = database
        self.problem = problem
    }
}
