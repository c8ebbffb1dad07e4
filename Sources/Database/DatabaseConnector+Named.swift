import PostgresClient
import Settings

extension DatabaseConnector {
    /// Connection settings of a configured application database (by its `databases:` key), for
    /// a session or a tool such as pg_dump.
    package func configuration(forDatabase name: String, in configuration: Configuration) throws -> ConnectionConfiguration {
        guard let target = configuration.databases[name] else {
            let configured = configuration.databases.keys.sorted().joined(separator: ", ")
            throw TargetDatabaseError("database \(name.debugDescription) is not configured; configured: \(configured.isEmpty ? "none" : configured)")
        }
        return try self.configuration(for: target)
    }

    /// A connection to the orchestrator's own database (catalog writes), closed afterwards.
    package func withOrchestratorDatabase<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await connect()
        defer { connection.close() }
        return try await body(connection)
    }
}
