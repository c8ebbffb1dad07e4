import ArgumentParser
import Database
import Logging
import PostgresClient
import Settings

/// What a command works with once its options are parsed: the loaded configuration, the
/// connector to the orchestrator's database, a logger and the output format.
struct CommandEnvironment: Sendable {
    let configuration: Configuration
    let configPath: String?
    let connector: DatabaseConnector
    let logger: Logger
    let json: Bool

    /// Connects once (no retry loop: a command should say at once that the database is away).
    private func connect() async throws -> PostgresConnection {
        do {
            return try await connector.connect()
        } catch let error as PostgresError {
            printError("cannot connect to PostgreSQL at \(connector.orchestrator): \(error)")
            printError("set ORCHESTRATOR_DATABASE_URL (or database.url_env / url_file in the configuration), or the PG* variables")
            throw ExitCodes.databaseUnavailable
        }
    }

    /// Connects (a failure is exit 69), runs `body` on the connection and closes
    /// it however the body ends, so no command holds a session past its work.
    func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await connect()
        defer { connection.close() }
        return try await body(connection)
    }
}
