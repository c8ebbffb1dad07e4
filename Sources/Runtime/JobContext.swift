import Backups
import Database
import Logging
import PostgresClient
import Queue
import Settings
import Support

/// What a running job may use: its logger (captured into the run's log tail), the
/// configuration, and connections to the databases the configuration names.
package struct JobContext: Sendable {
    package let logger: Logger
    package let configuration: Configuration
    package let connector: DatabaseConnector
    /// Where archive work (file sets) runs; see `ArchiveRunner`.
    package let archiver: ArchiveRunner
    let recordBackendPID: @Sendable (Int32) async -> Void
    /// Prepares follow-up jobs exactly as `orchestrator enqueue` would, for this worker's host.
    let preparer: (any JobPreparer)?
    let hostName: String
    /// WARNINGs from the job's database connections, added to the run's result.
    let serverWarnings = ServerWarnings()

    init(
        logger: Logger, configuration: Configuration, connector: DatabaseConnector, archiver: ArchiveRunner = .inProcess,
        preparer: (any JobPreparer)? = nil, hostName: String = HostInfo.hostName,
        recordBackendPID: @escaping @Sendable (Int32) async -> Void
    ) {
        self.preparer = preparer
        self.hostName = hostName
        self.logger = logger
        self.configuration = configuration
        self.connector = connector
        self.archiver = archiver
        self.recordBackendPID = recordBackendPID
    }

    /// A connection to the orchestrator's own database (catalog writes), closed afterwards.
    package func withOrchestratorDatabase<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await connector.withOrchestratorDatabase(body)
    }

    /// Enqueues a follow-up job (a backup's copies): checked and placed like any other job, on
    /// this worker's host queue when its kind runs per host. Returns its id.
    package func enqueue(_ request: JobRequest) async throws -> Int64 {
        guard let preparer else { throw JobValidationError("this job context cannot enqueue follow-up jobs") }
        let prepared = try preparer.prepare(request, configuration: configuration, hostName: hostName)
        return try await withOrchestratorDatabase { connection in try await JobQueue.enqueue(prepared, on: connection).id }
    }

    /// Connection settings of a configured application database, for tools such as pg_dump.
    package func connectionConfiguration(forDatabase name: String) throws -> ConnectionConfiguration {
        try connector.configuration(forDatabase: name, in: configuration)
    }

    /// What the backup domain needs of this job.
    package var backups: BackupEnvironment {
        BackupEnvironment(logger: logger, configuration: configuration, connector: connector, archiver: archiver)
    }

    /// Opens a connection to a configured application database (by its `databases:` key),
    /// records its backend PID on the run, and closes it afterwards. Cancelling the job
    /// cancels the statement running on it.
    package func withDatabase<T: Sendable>(_ name: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let settings = try connectionConfiguration(forDatabase: name)
        let dbname = configuration.databases[name]?.dbname ?? name
        let connection = try await PostgresConnection.connect(target: settings, dbname: dbname)
        defer { connection.close() }
        // Server warnings (VACUUM "skipping ...") reach the run's log tail as they arrive.
        let logger = self.logger
        let warnings = serverWarnings
        connection.onNotice { notice in
            if notice.isWarning { warnings.append(notice.message) }
            logger.log(level: notice.isWarning ? .warning : .notice, "server \(notice.severity.lowercased())", metadata: [
                "db.name": "\(dbname)", "db.message": "\(notice.message)",
            ])
        }
        await recordBackendPID(connection.backendPID)
        return try await body(connection)
    }
}
