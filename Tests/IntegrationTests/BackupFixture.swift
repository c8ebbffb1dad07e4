@testable import Database
import Foundation
import PostgresClient
@testable import Queue
@testable import Settings
import TestSupport
import Testing

/// Backup suites share one setup: the test database doubles as the application database
/// (`trades` with 20,000 rows and an oddly named table), beside a small files tree.
protocol BackupFixture {}

extension BackupFixture {
    /// A harness whose own database doubles as the application database, with a files tree.
    func withBackupHarness<T: Sendable>(_ body: (Harness, String, String) async throws -> T) async throws -> T {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("backups-\(UUID().uuidString)").path
        let app = scratch + "/app"
        try FileManager.default.createDirectory(atPath: app + "/config", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: app + "/node_modules/x", withIntermediateDirectories: true)
        try "DB_URL_FILE=/etc/app/db\n".write(toFile: app + "/.env", atomically: true, encoding: .utf8)
        try "threshold: 80\n".write(toFile: app + "/config/app.yaml", atomically: true, encoding: .utf8)
        try "junk".write(toFile: app + "/node_modules/x/index.js", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        return try await TestDatabase.with { database in
            let configuration = Configuration(
                databases: ["app": TargetDatabase(dbname: database.name)],
                backups: BackupSettings(repository: scratch + "/repository", parallelJobs: 2, profiles: [
                    "daily": BackupProfile(
                        databases: ["app"], paths: [app], excludes: ["node_modules"],
                        smokeQueries: ["SELECT 1 FROM trades WHERE symbol LIKE 'SYM%' LIMIT 1"]
                    ),
                    "broken": BackupProfile(databases: ["missing"], paths: []),
                ])
            )
            let connection = try await database.connect()
            defer { connection.close() }
            _ = try await Migrator(directory: Harness.migrationsDirectory).migrate(connection, appliedBy: "tests", logger: Harness.logger)
            try await connection.execute("""
                CREATE TABLE trades (id bigserial PRIMARY KEY, symbol text NOT NULL, price numeric NOT NULL, at timestamptz NOT NULL DEFAULT now());
                INSERT INTO trades (symbol, price) SELECT 'SYM' || (i % 37), round((random() * 1000)::numeric, 2) FROM generate_series(1, 20000) i;
                CREATE TABLE "Odd ""Name"" here" (x int);
                INSERT INTO "Odd ""Name"" here" VALUES (1), (2), (3);
                """)
            let harness = Harness(
                database: database,
                connector: DatabaseConnector(orchestrator: database.configuration, environment: ProcessInfo.processInfo.environment),
                configuration: configuration
            )
            return try await body(harness, scratch, app)
        }
    }

    func backUp(_ harness: Harness, profile: String = "daily") async throws -> (job: Int64, state: String) {
        let connection = try await harness.connect()
        defer { connection.close() }
        let id = try await harness.enqueue(kind: "backup", target: profile, on: connection)
        try await harness.worker(drain: true).run()
        return (id, try await harness.state(of: id, on: connection) ?? "missing")
    }

    func run(_ harness: Harness, kind: String, target: String?, _ arguments: [String: String]) async throws -> (id: Int64, job: JobRecord?) {
        let connection = try await harness.connect()
        defer { connection.close() }
        let id = try await harness.enqueue(arguments, kind: kind, target: target, on: connection)
        try await harness.worker(drain: true).run()
        return (id, try await JobQueue.job(id: id, on: connection))
    }
}
