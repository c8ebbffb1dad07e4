import Archiving
@testable import Backups
import Foundation
@testable import History
import PostgresClient
@testable import Queue
@testable import Settings
@testable import Support
import TestSupport
import Testing

@Suite("Backups", .serialized)
struct BackupTests: BackupFixture {
    @Test func aBackupIsVerifiedCataloguedAndRestorable() async throws {
        try await withBackupHarness { harness, scratch, app in
            let (job, state) = try await backUp(harness)
            #expect(state == "succeeded")
            let connection = try await harness.connect()
            defer { connection.close() }
            let record = try #require(try await BackupCatalog.find("latest", on: connection))
            #expect(record.jobID == job)
            #expect(record.verifyStatus == "passed")
            #expect(record.databases == ["app"])
            // The catalogued manifest is the one `backups show` prints.
            let manifestText = try #require(try await BackupCatalog.manifestText(id: record.id, on: connection))
            let catalogued = try BackupManifest.decode(Data(manifestText.utf8))
            #expect(catalogued.label == record.label && catalogued.databases.map(\.name) == ["app"])
            #expect(try await BackupCatalog.manifestText(id: record.id + 1000, on: connection) == nil)

            // Files and directories are private to the owner.
            for path in try BackupVerifier.files(under: record.location) {
                let attributes = try FileManager.default.attributesOfItem(atPath: record.location + "/" + path)
                #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(path)")
            }
            // Nothing unfinished is left behind.
            let profileDirectory = (record.location as NSString).deletingLastPathComponent
            #expect(try FileManager.default.contentsOfDirectory(atPath: profileDirectory).filter { $0.hasPrefix(".") }.isEmpty)

            let manifest = try BackupManifest.decode(try Data(contentsOf: URL(fileURLWithPath: record.location + "/manifest.json")))
            let counts = Dictionary(uniqueKeysWithValues: manifest.databases[0].tables.map { ("\($0.schema).\($0.table)", $0.rows) })
            #expect(counts["public.trades"] == 20000)
            #expect(counts["public.Odd \"Name\" here"] == 3)
            #expect(!String(decoding: try Data(contentsOf: URL(fileURLWithPath: record.location + "/manifest.json")), as: UTF8.self).contains("postgresql://"))

            // The dump restores into a new database with the same rows and content.
            let restored = harness.database.name + "_r"
            try await connection.execute("CREATE DATABASE \(try SQLIdentifier.quoted(restored))")
            defer { Task { try? await connection.execute("DROP DATABASE IF EXISTS \(try SQLIdentifier.quoted(restored))") } }
            let target = harness.database.configuration.withDatabase(restored)
            try await ChildProcess.run(
                try #require(ChildProcess.locate("pg_restore")),
                ["--exit-on-error", "--no-owner", "--jobs=2", "--dbname=\(restored)", record.location + "/" + manifest.databases[0].path],
                environment: target.toolEnvironment
            )
            let copy = try await PostgresConnection.connect(target)
            defer { copy.close() }
            let original = try await connection.query("SELECT count(*) AS n, sum(price)::text AS total, string_agg(symbol, ',' ORDER BY id) AS symbols FROM trades").first
            let again = try await copy.query("SELECT count(*) AS n, sum(price)::text AS total, string_agg(symbol, ',' ORDER BY id) AS symbols FROM trades").first
            #expect(original?.values == again?.values)

            // The file set holds the files, without the excluded ones.
            let extracted = scratch + "/extracted"
            _ = try SafeExtractor.extract(archive: record.location + "/" + manifest.fileSets[0].archive, into: extracted)
            let relativeApp = String(app.drop { $0 == "/" })
            #expect(try String(contentsOfFile: extracted + "/" + relativeApp + "/config/app.yaml", encoding: .utf8) == "threshold: 80\n")
            #expect(!FileManager.default.fileExists(atPath: extracted + "/" + relativeApp + "/node_modules"))
        }
    }

    enum Damage: String, CaseIterable, Sendable {
        case truncateDumpFile, flipByteInArchive, deleteFile, addFile, editManifest, corruptDumpBeforeChecksums
    }

    @Test(arguments: Damage.allCases)
    func verificationCatchesDamageAndNamesTheFile(damage: Damage) async throws {
        try await withBackupHarness { harness, scratch, _ in
            #expect(try await backUp(harness).state == "succeeded")
            let connection = try await harness.connect()
            defer { connection.close() }
            let record = try #require(try await BackupCatalog.find("latest", on: connection))
            let copy = scratch + "/damaged"
            try FileManager.default.copyItem(atPath: record.location, toPath: copy)
            var manifest = try BackupManifest.decode(try Data(contentsOf: URL(fileURLWithPath: copy + "/manifest.json")))
            let dataFile = try #require(manifest.files.first { $0.path.hasSuffix(".dat.gz") && $0.bytes > 1000 }).path
            let archive = manifest.fileSets[0].archive
            var expectedSHA = record.manifestSHA256
            let expectedMessage: String
            switch damage {
            case .truncateDumpFile:
                try truncate(copy + "/" + dataFile)
                expectedMessage = "\(dataFile) has"
            case .flipByteInArchive:
                try flipByte(copy + "/" + archive)
                expectedMessage = "\(archive) is corrupt"
            case .deleteFile:
                try FileManager.default.removeItem(atPath: copy + "/globals.sql")
                expectedMessage = "globals.sql is missing"
            case .addFile:
                try "surprise".write(toFile: copy + "/db/extra.sql", atomically: true, encoding: .utf8)
                expectedMessage = "db/extra.sql is not in the manifest"
            case .editManifest:
                manifest.databases[0].tables[0].rows += 1
                try manifest.encoded().write(to: URL(fileURLWithPath: copy + "/manifest.json"))
                expectedMessage = "manifest.json was modified"
            case .corruptDumpBeforeChecksums:
                // The dump was damaged before its checksum was taken: checksums agree, reading it does not.
                try truncate(copy + "/" + dataFile)
                let digest = try FileDigest.sha256(ofFileAt: copy + "/" + dataFile)
                let index = try #require(manifest.files.firstIndex { $0.path == dataFile })
                manifest.files[index] = .init(path: dataFile, bytes: digest.bytes, sha256: digest.sha256)
                let data = try manifest.encoded()
                try data.write(to: URL(fileURLWithPath: copy + "/manifest.json"))
                expectedSHA = FileDigest.sha256(of: data)
                expectedMessage = "dump db/app.dump cannot be read end to end"
            }
            let error = await #expect(throws: BackupError.self) {
                _ = try await BackupVerifier(logger: Harness.logger).verify(directory: copy, manifestSHA256: expectedSHA)
            }
            #expect(error?.description.hasPrefix(expectedMessage) == true, "\(error?.description ?? "no error")")
            // The intact original still verifies.
            let report = try await BackupVerifier(logger: Harness.logger).verify(directory: record.location, manifestSHA256: record.manifestSHA256)
            #expect(report.files == manifest.files.count)
        }
    }

    @Test func aFailedBackupLeavesNothingBehind() async throws {
        try await withBackupHarness { harness, scratch, _ in
            // `missing` is not a configured database: refused when enqueued...
            let connection = try await harness.connect()
            defer { connection.close() }
            await #expect(throws: JobValidationError.self) { try await harness.enqueue(kind: "backup", target: "nightly", on: connection) }
            // ...and a database that vanished fails the job without a trace.
            var configuration = harness.configuration
            configuration.databases["app"] = TargetDatabase(dbname: "no_such_database_anywhere")
            let broken = Harness(database: harness.database, connector: harness.connector, configuration: configuration)
            let (id, state) = try await backUp(broken)
            #expect(state == "failed")
            #expect(try await JobQueue.runs(jobID: id, on: connection).first?.error?.contains("no_such_database_anywhere") == true)
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.backups", on: connection) == 0)
            let profileDirectory = scratch + "/repository/daily"
            #expect((try? FileManager.default.contentsOfDirectory(atPath: profileDirectory))?.isEmpty ?? true)
        }
    }

    @Test func restoreCreatesANewDatabaseAndRefusesAnExistingOneUnlessReplacing() async throws {
        try await withBackupHarness { harness, scratch, app in
            #expect(try await backUp(harness).state == "succeeded")
            let connection = try await harness.connect()
            defer { connection.close() }
            let name = harness.database.name + "_copy"
            defer { Task { try? await connection.execute("DROP DATABASE IF EXISTS \(try SQLIdentifier.quoted(name)) WITH (FORCE)") } }

            let first = try await run(harness, kind: "restore", target: "latest", ["database": name, "files_to": scratch + "/files"])
            #expect(first.job?.state == .succeeded)
            let copy = try await PostgresConnection.connect(harness.database.configuration.withDatabase(name))
            #expect(try await copy.query("SELECT count(*) AS n FROM trades").first?.decode("n", as: Int.self) == 20000)
            copy.close()
            let relativeApp = String(app.drop { $0 == "/" })
            #expect(FileManager.default.fileExists(atPath: scratch + "/files/" + relativeApp + "/.env"))

            // The name is taken now: refused, and the existing database is untouched.
            let refused = try await run(harness, kind: "restore", target: "latest", ["database": name])
            #expect(refused.job?.state == .failed)
            #expect(refused.job?.lastError?.contains("already exists") == true)

            // With replace, the restored copy takes the name and the previous one is kept aside.
            let marker = try await PostgresConnection.connect(harness.database.configuration.withDatabase(name))
            try await marker.execute("CREATE TABLE marker (x int)")
            marker.close()
            let replaced = try await run(harness, kind: "restore", target: "latest", ["database": name, "replace": "true"])
            #expect(replaced.job?.state == .succeeded)
            let swapped = try await PostgresConnection.connect(harness.database.configuration.withDatabase(name))
            #expect(try await swapped.query("SELECT to_regclass('marker') IS NULL AS gone").first?.decode("gone", as: Bool.self) == true)
            swapped.close()
            let kept = "\(name)__replaced_\(replaced.id)"
            #expect(try await harness.count("SELECT count(*) AS n FROM pg_database WHERE datname = $1", [kept], on: connection) == 1)
            try await connection.execute("DROP DATABASE \(try SQLIdentifier.quoted(kept)) WITH (FORCE)")
        }
    }

    @Test func aRestoreDrillPassesOnAGoodBackupAndNamesTheTableOnADifference() async throws {
        try await withBackupHarness { harness, _, _ in
            #expect(try await backUp(harness).state == "succeeded")
            let connection = try await harness.connect()
            defer { connection.close() }
            let good = try await run(harness, kind: "restore-drill", target: nil, [:])
            #expect(good.job?.state == .succeeded)
            let drills = try await harness.count("SELECT count(*) AS n FROM orchestrator.restore_drills WHERE status = 'passed' AND tables_checked >= 2 AND restore_seconds > 0", on: connection)
            #expect(drills == 1)
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.latest_backups WHERE newest_drilled_id IS NOT NULL", on: connection) == 1)
            #expect(try await harness.count("SELECT count(*) AS n FROM pg_database WHERE datname LIKE 'orchestrator_drill_%'", on: connection) == 0)

            // A smoke query that finds nothing fails the drill and says which query.
            var strict = harness.configuration
            strict.backups.profiles["daily"]?.smokeQueries = ["SELECT 1 FROM trades WHERE symbol = 'NO-SUCH-SYMBOL'"]
            let smoky = try await run(Harness(database: harness.database, connector: harness.connector, configuration: strict),
                                      kind: "restore-drill", target: nil, [:])
            #expect(smoky.job?.state == .failed)
            #expect(smoky.job?.lastError?.contains("smoke query failed on app") == true)
            try await connection.query("DELETE FROM orchestrator.restore_drills WHERE status = 'failed'")

            // A backup whose manifest promises a row the dump does not hold.
            let record = try #require(try await BackupCatalog.find("latest", on: connection))
            let path = record.location + "/manifest.json"
            var manifest = try BackupManifest.decode(try Data(contentsOf: URL(fileURLWithPath: path)))
            let index = try #require(manifest.databases[0].tables.firstIndex { $0.table == "trades" })
            manifest.databases[0].tables[index].rows += 1
            let data = try manifest.encoded()
            try data.write(to: URL(fileURLWithPath: path))
            try await connection.query("UPDATE orchestrator.backups SET manifest_sha256 = $2 WHERE id = $1", [record.id, FileDigest.sha256(of: data)])
            let bad = try await run(harness, kind: "restore-drill", target: "\(record.id)", [:])
            #expect(bad.job?.state == .failed)
            #expect(bad.job?.lastError?.contains("row count differs in app.public.trades: backup has 20001, restored 20000") == true)
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.restore_drills WHERE status = 'failed'", on: connection) == 1)
            #expect(try await harness.count("SELECT count(*) AS n FROM pg_database WHERE datname LIKE 'orchestrator_drill_%'", on: connection) == 0)
        }
    }

    @Test func retentionAfterEachBackupDeletesOnlyWhatNoRuleKeeps() async throws {
        try await withBackupHarness { harness, _, _ in
            var configuration = harness.configuration
            configuration.backups.profiles["daily"]?.retention = RetentionPolicy(keepLast: 2, minKeep: 1)
            let keepTwo = Harness(database: harness.database, connector: harness.connector, configuration: configuration)
            for _ in 0..<3 {
                #expect(try await backUp(keepTwo).state == "succeeded")
                try await Task.sleep(for: .seconds(1))  // labels are per second
            }
            let connection = try await harness.connect()
            defer { connection.close() }
            let all = try await BackupCatalog.list(profile: "daily", includeDeleted: true, on: connection)
            #expect(all.count == 3)
            let deleted = all.filter { $0.deletedAt != nil }
            #expect(deleted.map(\.id) == [all.map(\.id).min()!])
            #expect(!FileManager.default.fileExists(atPath: deleted[0].location))
            let reason = try await connection.query("SELECT delete_reason FROM orchestrator.backups WHERE id = $1", [deleted[0].id]).first
            #expect(try reason?.decode("delete_reason", as: String.self).hasPrefix("outside every keep rule (keep_last=2") == true)
            for live in all where live.deletedAt == nil { #expect(FileManager.default.fileExists(atPath: live.location)) }

            // The same rules as a job of its own: with keep_last 1, one more goes.
            configuration.backups.profiles["daily"]?.retention = RetentionPolicy(keepLast: 1, minKeep: 1)
            let keepOne = Harness(database: harness.database, connector: harness.connector, configuration: configuration)
            let pruned = try await run(keepOne, kind: "prune-backups", target: "daily", [:])
            #expect(pruned.job?.state == .succeeded)
            #expect(try await BackupCatalog.list(profile: "daily", on: connection).count == 1)
        }
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to mount a small tmpfs as a full disk"))
    func aFullDiskFailsTheBackupCleanlyAndKeepsEarlierBackups() async throws {
        try await withBackupHarness { harness, scratch, app in
            let repository = scratch + "/small-disk"
            try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
            guard await shell("mount -t tmpfs -o size=3m tmpfs '\(repository)'") == 0 else {
                throw TestEnvironmentError("cannot mount a tmpfs at \(repository)")
            }
            defer { _ = system("umount '\(repository)' >/dev/null 2>&1") }
            var configuration = harness.configuration
            configuration.backups.repository = repository
            configuration.kinds["backup"] = KindSettings(maxAttempts: 1)
            let small = Harness(database: harness.database, connector: harness.connector, configuration: configuration)
            #expect(try await backUp(small).state == "succeeded")

            // 8 MB of incompressible data cannot fit in what is left of 3 MB.
            var random = SystemRandomNumberGenerator()
            try Data((0..<8_000_000).map { _ in UInt8.random(in: 0...255, using: &random) }).write(to: URL(fileURLWithPath: app + "/big.bin"))
            let (id, state) = try await backUp(small)
            #expect(state == "failed")
            let connection = try await harness.connect()
            defer { connection.close() }
            let error = try await JobQueue.runs(jobID: id, on: connection).last?.error ?? ""
            #expect(error.contains("No space left on device"), "\(error)")
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.backups", on: connection) == 1)
            let record = try #require(try await BackupCatalog.find("latest", on: connection))
            #expect(try FileManager.default.contentsOfDirectory(atPath: repository + "/daily") == [record.label])
            _ = try await BackupVerifier(logger: Harness.logger).verify(directory: record.location, manifestSHA256: record.manifestSHA256)
        }
    }

    private func shell(_ command: String) async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: system(command + " >/dev/null 2>&1")) }
        }
    }

    private func truncate(_ path: String) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size / 2)
        try handle.close()
    }

    private func flipByte(_ path: String) throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[data.count / 2] ^= 0x01
        try data.write(to: URL(fileURLWithPath: path))
    }
}
