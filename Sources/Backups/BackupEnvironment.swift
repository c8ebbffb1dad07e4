import Logging
import PostgresClient
import Database
import Settings

/// What building, restoring and drilling a backup use: the configuration, connections, the
/// logger the run's log tail captures, and where archive work runs.
package struct BackupEnvironment: Sendable {
    package let logger: Logger
    package let configuration: Configuration
    package let connector: DatabaseConnector
    package let archiver: ArchiveRunner

    package init(logger: Logger, configuration: Configuration, connector: DatabaseConnector, archiver: ArchiveRunner = .inProcess) {
        self.logger = logger
        self.configuration = configuration
        self.connector = connector
        self.archiver = archiver
    }

    func withOrchestratorDatabase<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await connector.withOrchestratorDatabase(body)
    }

    func connectionConfiguration(forDatabase name: String) throws -> ConnectionConfiguration {
        try connector.configuration(forDatabase: name, in: configuration)
    }
}
