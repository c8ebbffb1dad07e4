@testable import Alerts
@testable import Backups
@testable import Database
import Foundation
@testable import Health
@testable import History
@testable import Maintenance
import PostgresClient
import TestSupport
import Testing

@Suite("Migrations")
struct MigrationTests {
    @Test func applyingTwiceChangesNothingTheSecondTime() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            let migrator = try Migrator(directory: Harness.migrationsDirectory)
            let first = try await migrator.migrate(connection, appliedBy: "tests", logger: Harness.logger)
            #expect(first.applied == migrator.files.map(\.name))
            let second = try await migrator.migrate(connection, appliedBy: "tests", logger: Harness.logger)
            #expect(second.applied.isEmpty)
            #expect(second.alreadyApplied == migrator.files.count)
            #expect(try await migrator.pending(connection).isEmpty)
        }
    }

    @Test func concurrentMigrationsApplyEachFileOnce() async throws {
        try await TestDatabase.with { database in
            let migrator = try Migrator(directory: Harness.migrationsDirectory)
            let reports = try await withThrowingTaskGroup(of: Migrator.Report.self) { group in
                for _ in 0..<5 {
                    group.addTask {
                        let connection = try await database.connect()
                        defer { connection.close() }
                        return try await migrator.migrate(connection, appliedBy: "tests", logger: Harness.logger)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.flatMap(\.applied).sorted() == migrator.files.map(\.name).sorted())
            let connection = try await database.connect()
            defer { connection.close() }
            let rows = try await connection.query("SELECT count(*) AS n FROM orchestrator.schema_migrations")
            #expect(try rows.first?.decode("n", as: Int.self) == migrator.files.count)
        }
    }

    @Test func anEditedAppliedFileIsRefused() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            let original = [MigrationFile(version: 1, name: "0001_first", sql: "CREATE SCHEMA IF NOT EXISTS orchestrator; CREATE TABLE orchestrator.t (id int);")]
            _ = try await Migrator(files: original).migrate(connection, appliedBy: "tests", logger: Harness.logger)
            let edited = [
                MigrationFile(version: 1, name: "0001_first", sql: "CREATE SCHEMA IF NOT EXISTS orchestrator; CREATE TABLE orchestrator.t (id bigint);"),
                MigrationFile(version: 2, name: "0002_second", sql: "CREATE TABLE orchestrator.u (id int);"),
            ]
            let error = await #expect(throws: MigrationError.self) {
                _ = try await Migrator(files: edited).migrate(connection, appliedBy: "tests", logger: Harness.logger)
            }
            #expect(error?.description.contains("0001_first.sql was edited") == true)
            // Nothing after the refusal was applied.
            let table = try await connection.query("SELECT to_regclass('orchestrator.u') IS NULL AS absent")
            #expect(try table.first?.decode("absent", as: Bool.self) == true)
        }
    }

    @Test func aDatabaseNewerThanTheBuildIsRefused() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            let newer = [
                MigrationFile(version: 1, name: "0001_a", sql: "CREATE SCHEMA IF NOT EXISTS orchestrator;"),
                MigrationFile(version: 2, name: "0002_b", sql: "SELECT 1;"),
            ]
            _ = try await Migrator(files: newer).migrate(connection, appliedBy: "tests", logger: Harness.logger)
            let error = await #expect(throws: MigrationError.self) {
                _ = try await Migrator(files: Array(newer.prefix(1))).migrate(connection, appliedBy: "tests", logger: Harness.logger)
            }
            #expect(error?.description.contains("upgrade orchestrator") == true)
        }
    }

    @Test func aFailingMigrationLeavesNoTrace() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            let files = [MigrationFile(version: 1, name: "0001_broken", sql: "CREATE SCHEMA orchestrator_x; CREATE TABLE nope (id no_such_type);")]
            await #expect(throws: PostgresError.self) {
                _ = try await Migrator(files: files).migrate(connection, appliedBy: "tests", logger: Harness.logger)
            }
            let rows = try await connection.query(
                "SELECT to_regnamespace('orchestrator_x') IS NULL AS absent, (SELECT count(*) FROM orchestrator.schema_migrations) AS n"
            )
            #expect(try rows.first?.decode("absent", as: Bool.self) == true)
            #expect(try rows.first?.decode("n", as: Int.self) == 0)
        }
    }

    @Test func misnamedFilesAreAnError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "SELECT 1;".write(to: directory.appendingPathComponent("1_first.sql"), atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.self) { try Migrator(directory: directory) }
    }
}
