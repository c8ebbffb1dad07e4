@testable import Backups
import Foundation
import PostgresClient
import TestSupport
import Testing

/// Drills with the orchestrator's database inside the backed-up cluster, as on one host: the
/// recovery markers travel with every base backup and WAL segment.
@Suite("Point-in-time drills")
struct PointInTimeDrillTests {
    @Test func aDrillRestoresARandomMomentWithExactlyTheMarkersBeforeItAndCleansUp() async throws {
        try await PhysicalBackupFixture.with(catalogInPrimary: true) { fixture in
            _ = try await fixture.baseBackup()
            let catalog = try await fixture.harness.connect()
            defer { catalog.close() }
            for _ in 0..<6 {
                try await Task.sleep(for: .seconds(3))
                try await RecoveryMarkers.write(worker: "tests", on: catalog)
            }
            try await fixture.archiveEverything(catalog)

            let drill = PointInTimeDrill(environment: fixture.environment, executable: fixture.wal.binary)
            let outcome = try await drill.run(profile: "base", mode: .random, jobID: nil)
            #expect(outcome.passed, "\(outcome.error ?? "")")
            let target = try #require(outcome.target)
            let written = try await RecoveryMarkers.ids(from: .distantPast, to: target, on: catalog)
            #expect(outcome.markersExpected == written.count && outcome.markersFound == written.count, "\(outcome)")
            #expect((outcome.rtoSeconds ?? 0) > 0)
            #expect(outcome.pgVerifybackupSeconds != nil, "pg_verifybackup checked the extracted copy")

            let row = try await catalog.query(
                "SELECT status, method, markers_expected, markers_found, restore_seconds, target_time FROM orchestrator.restore_drills ORDER BY id DESC LIMIT 1"
            ).single()
            #expect(try row.decode("status", as: String.self) == "passed")
            #expect(try row.decode("method", as: String.self) == "physical")
            #expect(try row.decodeIfPresent("markers_expected", as: Int32.self) == Int32(written.count))
            #expect(fixture.wal.files(in: fixture.wal.directory + "/drills").isEmpty, "the scratch cluster is gone")

            let latest = try await drill.run(profile: "base", mode: .latest, jobID: nil)
            #expect(latest.passed, "\(latest.error ?? "")")
            #expect(latest.target == nil)
            #expect((latest.markersFound ?? 0) >= 6, "\(latest)")
            #expect((latest.rpoSeconds ?? .infinity) < 60, "the end of the archive is recent: \(latest)")
        }
    }

    @Test func theScratchClusterOfAKilledDrillIsStoppedAndRemovedByTheNext() async throws {
        try await PhysicalBackupFixture.with(catalogInPrimary: true) { fixture in
            _ = try await fixture.baseBackup()
            let catalog = try await fixture.harness.connect()
            defer { catalog.close() }
            try await fixture.archiveEverything(catalog)
            // What a drill killed mid-way leaves: a running copy in its directory, the lock free.
            let leftover = fixture.wal.directory + "/drills/drill-7"
            try FileManager.default.createDirectory(atPath: leftover, withIntermediateDirectories: true)
            chmod(fixture.wal.directory + "/drills", 0o711)
            chmod(leftover, 0o711)
            var request = fixture.restoreRequest(.latest, name: "unused")
            request.dataDirectory = leftover + "/data"
            request.socketDirectory = leftover + "/socket"
            let orphan = try await fixture.restorer.run(request)
            let pid = try #require(Self.postmasterPID(orphan.dataDirectory))
            #expect(kill(pid, 0) == 0)

            let outcome = try await PointInTimeDrill(environment: fixture.environment, executable: fixture.wal.binary).run(profile: nil, mode: .latest, jobID: nil)
            #expect(outcome.passed, "\(outcome.error ?? "")")
            #expect(!FileManager.default.fileExists(atPath: leftover), "the leftover directory is removed")
            #expect(try await eventually(timeout: .seconds(10)) { kill(pid, 0) != 0 }, "its server is stopped")
        }
    }

    static func postmasterPID(_ dataDirectory: String) -> pid_t? {
        (try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8))?.split(separator: "\n").first.flatMap { pid_t($0) }
    }
}

extension PhysicalBackupFixture {
    var environment: BackupEnvironment {
        BackupEnvironment(logger: Harness.logger, configuration: harness.configuration, connector: harness.connector)
    }
}
