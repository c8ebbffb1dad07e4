import Foundation
import PostgresClient
@testable import Queue
@testable import Settings
@testable import Support
import TestSupport
import Testing

/// A backup holding a database and files restores the database only, the files only, or both.
@Suite("Backup restores", .serialized)
struct BackupRestoreTests: BackupFixture {
    private func databases(on connection: PostgresConnection) async throws -> Set<String> {
        Set(try await connection.query("SELECT datname FROM pg_database").rows.map { try $0.decode("datname", as: String.self) })
    }

    private func result(of job: Int64, on connection: PostgresConnection) async throws -> [String: JSONValue] {
        guard case .object(let result)? = try await JobQueue.runs(jobID: job, on: connection).last?.result else { return [:] }
        return result
    }

    @Test func theFilesAloneComeBackWithoutTouchingAnyDatabase() async throws {
        try await withBackupHarness { harness, scratch, app in
            #expect(try await backUp(harness).state == "succeeded")
            let connection = try await harness.connect()
            defer { connection.close() }
            let before = try await databases(on: connection)

            let files = scratch + "/files-only"
            let restored = try await run(harness, kind: "restore", target: "latest", ["files_to": files])
            #expect(restored.job?.state == .succeeded, "\(restored.job?.lastError ?? "")")
            #expect(restored.job?.concurrencyKey == nil)
            let relativeApp = String(app.drop { $0 == "/" })
            #expect(try String(contentsOfFile: files + "/" + relativeApp + "/config/app.yaml", encoding: .utf8) == "threshold: 80\n")
            #expect(FileManager.default.fileExists(atPath: files + "/" + relativeApp + "/.env"))
            #expect(try await databases(on: connection) == before)
            let result = try await result(of: restored.id, on: connection)
            #expect(result["database"] == nil)
            #expect((result["files_extracted"]?.intValue ?? 0) > 0)
        }
    }

    @Test func theDatabaseAloneComesBackWithoutExtractingFiles() async throws {
        try await withBackupHarness { harness, scratch, _ in
            #expect(try await backUp(harness).state == "succeeded")
            let connection = try await harness.connect()
            defer { connection.close() }
            let name = harness.database.name + "_dbonly"
            defer { Task { try? await connection.execute("DROP DATABASE IF EXISTS \(try SQLIdentifier.quoted(name)) WITH (FORCE)") } }

            let restored = try await run(harness, kind: "restore", target: "latest", ["database": name])
            #expect(restored.job?.state == .succeeded, "\(restored.job?.lastError ?? "")")
            let copy = try await PostgresConnection.connect(harness.database.configuration.withDatabase(name))
            defer { copy.close() }
            #expect(try await copy.query("SELECT count(*) AS n FROM trades").first?.decode("n", as: Int.self) == 20000)
            let result = try await result(of: restored.id, on: connection)
            #expect(result["database"]?.stringValue == name)
            #expect(result["files_extracted"]?.intValue == 0)
            #expect(!FileManager.default.fileExists(atPath: scratch + "/files"))
        }
    }

    @Test func theDatabaseAndTheFilesComeBackTogether() async throws {
        try await withBackupHarness { harness, scratch, app in
            #expect(try await backUp(harness).state == "succeeded")
            let connection = try await harness.connect()
            defer { connection.close() }
            let name = harness.database.name + "_both"
            defer { Task { try? await connection.execute("DROP DATABASE IF EXISTS \(try SQLIdentifier.quoted(name)) WITH (FORCE)") } }

            let files = scratch + "/both"
            let restored = try await run(harness, kind: "restore", target: "latest", ["database": name, "files_to": files])
            #expect(restored.job?.state == .succeeded, "\(restored.job?.lastError ?? "")")
            let copy = try await PostgresConnection.connect(harness.database.configuration.withDatabase(name))
            defer { copy.close() }
            #expect(try await copy.query("SELECT count(*) AS n FROM \"Odd \"\"Name\"\" here\"").first?.decode("n", as: Int.self) == 3)
            let relativeApp = String(app.drop { $0 == "/" })
            #expect(FileManager.default.fileExists(atPath: files + "/" + relativeApp + "/config/app.yaml"))
        }
    }

    @Test func askingForWhatTheBackupDoesNotHoldFailsBeforeRestoringAnything() async throws {
        try await withBackupHarness { harness, scratch, app in
            var configuration = harness.configuration
            configuration.backups.profiles["files"] = BackupProfile(databases: [], paths: [app])
            let filesOnly = Harness(database: harness.database, connector: harness.connector, configuration: configuration)
            #expect(try await backUp(filesOnly, profile: "files").state == "succeeded")
            let connection = try await harness.connect()
            defer { connection.close() }
            let before = try await databases(on: connection)

            let files = scratch + "/asked"
            let refused = try await run(filesOnly, kind: "restore", target: "latest", ["database": harness.database.name + "_none", "files_to": files])
            #expect(refused.job?.state == .failed)
            #expect(refused.job?.lastError?.contains("holds no database") == true, "\(refused.job?.lastError ?? "")")
            #expect(try await databases(on: connection) == before)
            #expect(!FileManager.default.fileExists(atPath: files))
        }
    }
}
