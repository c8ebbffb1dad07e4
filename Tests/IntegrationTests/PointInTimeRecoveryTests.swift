@testable import Backups
import Foundation
import PostgresClient
import Support
import TestSupport
import Testing

/// Archive -> base backup -> more writes -> restore to a moment, a position or the end, with
/// real clusters: the primary archiving through wal-push, the copy recovering through wal-get.
@Suite("Point-in-time recovery")
struct PointInTimeRecoveryTests {
    @Test func restoresExactlyTheMarkersBeforeAMomentAndEverythingWithLatest() async throws {
        try await PhysicalBackupFixture.with { fixture in
            let primary = try await fixture.primaryConnection()
            defer { primary.close() }
            try await primary.execute("CREATE TABLE markers (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())")
            try await primary.execute("INSERT INTO markers (id) VALUES (0)")
            let record = try await fixture.baseBackup()
            #expect(record.method == .physical)
            #expect(record.verifyStatus == "passed")
            #expect(record.startWAL?.count == 24)
            let files = fixture.wal.files(in: record.location)
            #expect(files.contains("base.tar.zst") && files.contains("backup_manifest") && files.contains("manifest.json"), "\(files)")

            try await primary.execute("INSERT INTO markers (id) VALUES (1)")
            try await Task.sleep(for: .milliseconds(1100))
            let target: Date = try await primary.query("SELECT clock_timestamp() AS t").single().decode("t")
            try await Task.sleep(for: .milliseconds(1100))
            try await primary.execute("INSERT INTO markers (id) VALUES (2)")
            try await fixture.archiveEverything(primary)

            let atMoment = try await fixture.restorer.run(fixture.restoreRequest(.time(target), name: "moment"))
            defer { fixture.stop(atMoment) }
            let copy = try await fixture.connect(to: atMoment)
            defer { copy.close() }
            let restored: String = try await copy.query("SELECT string_agg(id::text, ',' ORDER BY id) AS ids FROM markers").single().decode("ids")
            #expect(restored == "0,1", "exactly the markers committed before the target")
            #expect(atMoment.backupID == record.id)
            if let reached = atMoment.reachedTime { #expect(reached <= target) }
            #expect(atMoment.timeline == 2, "the copy is promoted onto a timeline of its own")
            let archiving: String = try await copy.query("SELECT current_setting('archive_mode') AS m").single().decode("m")
            #expect(archiving == "off", "a restored copy never archives into the production repository")

            #expect(try Self.niceness(ofServerIn: atMoment.dataDirectory) == 0, "a restore an operator waits for runs at normal priority")

            // As a drill does: the scratch server (and so every backend) runs at backups.priority.
            var lowered = fixture.restoreRequest(.latest, name: "latest")
            lowered.priority = .low
            let latest = try await fixture.restorer.run(lowered)
            defer { fixture.stop(latest) }
            #expect(try Self.niceness(ofServerIn: latest.dataDirectory) == ProcessPriority.lowNiceness)
            let everything = try await fixture.connect(to: latest)
            defer { everything.close() }
            let all: String = try await everything.query("SELECT string_agg(id::text, ',' ORDER BY id) AS ids FROM markers").single().decode("ids")
            #expect(all == "0,1,2")
        }
    }

    /// The nice value of the postmaster running from `dataDirectory` (field 19 of its stat).
    static func niceness(ofServerIn dataDirectory: String) throws -> Int32? {
        let pidText = try String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8).split(separator: "\n").first ?? ""
        let stat = try String(contentsOfFile: "/proc/\(pidText.trimmingCharacters(in: .whitespaces))/stat", encoding: .utf8)
        // The command name (field 2) may hold spaces: count from the closing parenthesis.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return Int32(fields[16])
    }

    @Test func aMissingSegmentIsNamedByTheRestore() async throws {
        try await PhysicalBackupFixture.with { fixture in
            let primary = try await fixture.primaryConnection()
            defer { primary.close() }
            try await primary.execute("CREATE TABLE markers (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())")
            _ = try await fixture.baseBackup()
            try await primary.execute("INSERT INTO markers (id) VALUES (1)")
            let gap: String = try await primary.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS name").single().decode("name")
            try await fixture.archiveEverything(primary)
            try await primary.execute("INSERT INTO markers (id) VALUES (2)")
            let after: Date = try await primary.query("SELECT clock_timestamp() AS t").single().decode("t")
            try await fixture.archiveEverything(primary)
            let catalog = try await fixture.harness.connect()
            defer { catalog.close() }
            let whole = try await RecoveryWindow.read(repository: fixture.wal.repository, on: catalog)
            #expect(whole.gaps.isEmpty && whole.backups == 1 && whole.earliest != nil && whole.latestArchived != nil, "\(whole)")
            try FileManager.default.removeItem(atPath: fixture.wal.stored(gap))
            let broken = try await RecoveryWindow.read(repository: fixture.wal.repository, on: catalog)
            #expect(broken.gaps.count == 1 && broken.gaps[0].contains("missing \(gap)"), "the window names the gap: \(broken.gaps)")

            let request = fixture.restoreRequest(.time(after), name: "gap")
            let error = await #expect(throws: BackupError.self) { try await fixture.restorer.run(request) }
            #expect(error?.description.contains(gap) == true, "names the missing segment: \(error?.description ?? "")")
            #expect(!FileManager.default.fileExists(atPath: request.dataDirectory + "/PG_VERSION"), "a failed restore leaves no half data directory")

            let latest = fixture.restoreRequest(.latest, name: "gap-latest")
            let stopped = await #expect(throws: BackupError.self) { try await fixture.restorer.run(latest) }
            #expect(stopped?.description.contains(gap) == true, "--latest does not silently stop at a gap: \(stopped?.description ?? "")")
        }
    }

    @Test func aCorruptBaseBackupIsRefusedNamingTheFile() async throws {
        try await PhysicalBackupFixture.with { fixture in
            let record = try await fixture.baseBackup()
            let archive = record.location + "/base.tar.zst"
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: archive))
            let size = try handle.seekToEnd()
            try handle.seek(toOffset: size / 2)
            let byte = try handle.read(upToCount: 1)?.first ?? 0
            try handle.seek(toOffset: size / 2)
            try handle.write(contentsOf: Data([byte ^ 0xFF]))
            try handle.close()

            let verify = await #expect(throws: BackupError.self) {
                try await BackupVerifier(logger: Harness.logger).verify(directory: record.location, manifestSHA256: record.manifestSHA256)
            }
            #expect(verify?.description.contains("base.tar.zst") == true, "\(verify?.description ?? "")")
            let request = fixture.restoreRequest(.latest, name: "corrupt")
            let restore = await #expect(throws: BackupError.self) { try await fixture.restorer.run(request) }
            #expect(restore?.description.contains("base.tar.zst") == true, "\(restore?.description ?? "")")
        }
    }

    @Test func theCommandRestoresReportsAsJSONAndStops() async throws {
        try await PhysicalBackupFixture.with { fixture in
            let primary = try await fixture.primaryConnection()
            defer { primary.close() }
            try await primary.execute("CREATE TABLE \"order book ✓\" (id int)")
            _ = try await fixture.baseBackup()
            try await primary.execute("INSERT INTO \"order book ✓\" SELECT generate_series(1, 100)")
            try await fixture.archiveEverything(primary)
            let directory = fixture.wal.directory
            let config = directory + "/orchestrator.yaml"
            try """
                databases:
                  primary: {dbname: postgres, url_env: \(fixture.primaryVariable)}
                wal_archive: {repository: \(fixture.wal.repository)}
                backups:
                  repository: \(directory)/backups
                  profiles:
                    base: {method: physical, database: primary, checkpoint: fast}
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: fixture.wal.binary)
            process.arguments = ["--config", config, "--json", "pitr", "restore", "--latest", "--data-dir", directory + "/cli/data",
                                 "--socket-dir", directory + "/cli", "--stop"]
            var environment = ProcessInfo.processInfo.environment
            environment["ORCHESTRATOR_DATABASE_URL"] = try fixture.harness.database.url
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            try await exited(process, timeout: .seconds(180))
            #expect(process.terminationStatus == 0, "\(String(decoding: data, as: UTF8.self))")
            let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(report["running"] as? Bool == false)
            #expect((report["reachedLSN"] ?? report["reached_lsn"]) is String, "\(report)")
            #expect(!FileManager.default.fileExists(atPath: directory + "/cli/data/postmaster.pid"), "stopped")
            #expect(FileManager.default.fileExists(atPath: directory + "/cli/data/PG_VERSION"), "the data directory stays")
        }
    }

    @Test func aTargetBeforeTheOldestBackupSaysWhatCanBeRestored() async throws {
        try await PhysicalBackupFixture.with { fixture in
            _ = try await fixture.baseBackup()
            let request = fixture.restoreRequest(.time(Date(timeIntervalSinceNow: -86400)), name: "early")
            let error = await #expect(throws: BackupRequestError.self) { try await fixture.restorer.run(request) }
            #expect(error?.description.contains("earliest point") == true, "\(error?.description ?? "")")
        }
    }
}
