import Logging
import PostgresClient

/// What a running job may use: its logger (captured into the run's log tail), the
/// configuration, and connections to the databases the configuration names.
public struct JobContext: Sendable {
    public let logger: Logger
    public let configuration: Configuration
    public let connector: DatabaseConnector
    /// Where archive work (file sets) runs; see `ArchiveRunner`.
    public let archiver: ArchiveRunner
    let recordBackendPID: @Sendable (Int32) async -> Void
    /// WARNINGs from the job's database connections, added to the run's result.
    let serverWarnings = ServerWarnings()

    init(
        logger: Logger, configuration: Configuration, connector: DatabaseConnector, archiver: ArchiveRunner = .inProcess,
        recordBackendPID: @escaping @Sendable (Int32) async -> Void
    ) {
        self.logger = logger
        self.configuration = configuration
        self.connector = connector
        self.archiver = archiver
        self.recordBackendPID = recordBackendPID
    }

    /// A connection to the orchestrator's own database (catalog writes), closed afterwards.
    public func withOrchestratorDatabase<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await connector.connect()
        defer { connection.close() }
        return try await body(connection)
    }

    /// Connection settings of a configured application database, for tools such as pg_dump.
    public func connectionConfiguration(forDatabase name: String) throws -> ConnectionConfiguration {
        guard let target = configuration.databases[name] else {
            throw PermanentJobError("database \(name.debugDescription) is not configured")
        }
        return try connector.configuration(for: target)
    }

    /// Opens a connection to a configured application database (by its `databases:` key),
    /// records its backend PID on the run, and closes it afterwards. Cancelling the job
    /// cancels the statement running on it.
    public func withDatabase<T: Sendable>(_ name: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        guard let target = configuration.databases[name] else {
            throw PermanentJobError("database \(name.debugDescription) is not configured; configured: \(configuration.databases.keys.sorted().joined(separator: ", "))")
        }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(try connector.configuration(for: target))
        } catch let error as PostgresError where error.isInvalidCatalog {
            throw PermanentJobError("database \(target.dbname.debugDescription) does not exist: \(error)")
        }
        defer { connection.close() }
        // Server warnings (VACUUM "skipping ...") reach the run's log tail as they arrive.
        let logger = self.logger
        let warnings = serverWarnings
        connection.onNotice { notice in
            if notice.isWarning { warnings.append(notice.message) }
            logger.log(level: notice.isWarning ? .warning : .notice, "server \(notice.severity.lowercased())", metadata: [
                "db.name": "\(target.dbname)", "db.message": "\(notice.message)",
            ])
        }
        await recordBackendPID(connection.backendPID)
        return try await body(connection)
    }
}
