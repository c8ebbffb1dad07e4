@testable import Backups
@testable import Database
import Foundation
import PostgresClient
@testable import Settings
import TestSupport
import Testing

/// A primary cluster of the test's own archiving through `wal-push` into a fixture repository,
/// a physical profile `base` copying it, and the catalog in the test's database on the shared
/// server. The primary's URL reaches the configuration through an environment variable of its own.
struct PhysicalBackupFixture: Sendable {
    let harness: Harness
    let wal: WALFixture
    let primary: PrivateCluster
    /// The environment variable holding the primary's URL (`url_env` of `databases.primary`).
    let primaryVariable: String

    /// With `catalogInPrimary` the orchestrator's own database lives in the primary cluster, as
    /// on a single host, so its recovery markers are part of every base backup.
    static func with<T: Sendable>(
        profile: BackupProfile = BackupProfile(retention: RetentionPolicy(keepLast: 2), method: .physical, database: "primary", checkpoint: .fast),
        catalogInPrimary: Bool = false,
        _ body: (PhysicalBackupFixture) async throws -> T
    ) async throws -> T {
        try await WALFixture.with { wal in
            let archive = "'\(wal.binary)' wal-push --repository '\(wal.repository)' %p"
            let settings = ["wal_level": "replica", "archive_mode": "on", "archive_command": archive, "max_wal_senders": "4"]
            return try await PrivateCluster.with(settings: settings, in: wal.directory + "/primary") { primary in
                let variable = "ORCHESTRATOR_TEST_PRIMARY_\(UUID().uuidString.replacingOccurrences(of: "-", with: "_"))"
                setenv(variable, "postgresql:///postgres?host=\(primary.socketDirectory)&port=\(PrivateCluster.port)&user=postgres", 1)
                defer { unsetenv(variable) }
                let configuration = Configuration(
                    databases: ["primary": TargetDatabase(dbname: "postgres", urlEnv: variable)],
                    backups: BackupSettings(
                        repository: wal.directory + "/backups", profiles: ["base": profile], drillDirectory: wal.directory + "/drills"
                    ),
                    walArchive: WALArchiveSettings(repository: wal.repository)
                )
                guard catalogInPrimary else {
                    return try await Harness.with(configuration: configuration) { harness in
                        try await body(PhysicalBackupFixture(harness: harness, wal: wal, primary: primary, primaryVariable: variable))
                    }
                }
                let admin = try await PostgresConnection.connect(primary.configuration)
                defer { admin.close() }
                try await admin.execute("CREATE DATABASE orchestrator")
                let database = TestDatabase(name: "orchestrator", configuration: primary.configuration.withDatabase("orchestrator"))
                let connection = try await database.connect()
                defer { connection.close() }
                _ = try await Migrator(directory: Harness.migrationsDirectory).migrate(connection, appliedBy: "tests", logger: Harness.logger)
                let harness = Harness(
                    database: database,
                    connector: DatabaseConnector(orchestrator: database.configuration, environment: ProcessInfo.processInfo.environment),
                    configuration: configuration
                )
                return try await body(PhysicalBackupFixture(harness: harness, wal: wal, primary: primary, primaryVariable: variable))
            }
        }
    }

    func primaryConnection() async throws -> PostgresConnection {
        try await PostgresConnection.connect(primary.configuration)
    }

    /// Runs a base-backup job to the end and returns its catalogued record.
    func baseBackup() async throws -> BackupRecord {
        let connection = try await harness.connect()
        defer { connection.close() }
        let id = try await harness.enqueue(kind: "base-backup", target: "base", on: connection)
        try await harness.worker(drain: true).run()
        let job = try await JobQueueLookup.job(id, on: connection)
        guard job.state == "succeeded" else { throw TestEnvironmentError("base-backup job \(id) \(job.state): \(job.error ?? "")") }
        guard let record = try await BackupCatalog.list(profile: "base", limit: 1, on: connection).first else {
            throw TestEnvironmentError("no backup catalogued")
        }
        return record
    }

    /// Switches to a new WAL segment and waits until everything written so far is archived.
    func archiveEverything(_ connection: PostgresConnection) async throws {
        // A commit record, so the current segment is never empty and the switch really happens.
        try await connection.execute("SELECT txid_current()")
        let last: String = try await connection.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS name").single().decode("name")
        try await connection.execute("SELECT pg_switch_wal()")
        try await WALRecoveryTests.waitFor("\(last) archived", cluster: primary) {
            let archived: String = try await connection.query("SELECT coalesce(last_archived_wal, '') AS wal FROM pg_stat_archiver").single().decode("wal")
            return archived.count == 24 && archived >= last
        }
    }

    /// The point-in-time restorer, with `wal-get` from the fixture's copy of the binary.
    var restorer: PointInTimeRestore {
        PointInTimeRestore(
            environment: BackupEnvironment(logger: Harness.logger, configuration: harness.configuration, connector: harness.connector),
            executable: wal.binary
        )
    }

    func restoreRequest(_ target: RecoveryTarget, name: String) -> PointInTimeRestore.Request {
        PointInTimeRestore.Request(
            target: target, dataDirectory: wal.directory + "/\(name)/data", port: 5432, socketDirectory: wal.directory + "/\(name)",
            timeoutSeconds: 120
        )
    }

    /// A connection to a restored copy left running.
    func connect(to outcome: PointInTimeRestore.Outcome) async throws -> PostgresConnection {
        try await PostgresConnection.connect(PointInTimeRestore.copyConnection(
            socketDirectory: outcome.socketDirectory, port: outcome.port, user: "postgres", database: "postgres", applicationName: "orchestrator-tests"
        ))
    }

    func stop(_ outcome: PointInTimeRestore.Outcome) {
        guard let bin = try? PrivateCluster.binaryDirectory() else { return }
        _ = try? PrivateCluster.runAsServerUser(["\(bin)/pg_ctl", "-D", outcome.dataDirectory, "-m", "immediate", "-w", "stop"], check: false)
    }
}

/// A job's state and error, for fixtures.
enum JobQueueLookup {
    static func job(_ id: Int64, on connection: PostgresConnection) async throws -> (state: String, error: String?) {
        let row = try await connection.query("SELECT state, last_error FROM orchestrator.jobs WHERE id = $1", [id]).single()
        return (try row.decode("state"), try row.decodeIfPresent("last_error"))
    }
}
