@testable import Backups
import Database
import Foundation
import Support
import PostgresClient
@testable import Settings
import TestSupport
import Testing

@Suite("Physical base backups")
struct PhysicalBackupTests {
    @Test func retentionRemovesOnlyWALNoKeptBaseBackupNeeds() async throws {
        let profile = BackupProfile(retention: RetentionPolicy(keepLast: 1), method: .physical, database: "primary", checkpoint: .fast)
        try await PhysicalBackupFixture.with(profile: profile) { fixture in
            let primary = try await fixture.primaryConnection()
            defer { primary.close() }
            try await primary.execute("CREATE TABLE markers (id int PRIMARY KEY)")
            let first = try await fixture.baseBackup()
            for id in 1...3 {
                try await primary.execute("INSERT INTO markers VALUES (\(id))")
                try await fixture.archiveEverything(primary)
            }
            let second = try await fixture.baseBackup()
            try await primary.execute("INSERT INTO markers VALUES (4)")
            try await fixture.archiveEverything(primary)

            let connection = try await fixture.harness.connect()
            defer { connection.close() }
            let live = try await BackupCatalog.list(profile: "base", on: connection)
            #expect(live.map(\.id) == [second.id], "keep_last 1 deleted the first base backup")
            #expect(!FileManager.default.fileExists(atPath: first.location))

            let kept = try #require(second.startWAL)
            let stored = fixture.wal.files(in: "\(fixture.wal.repository)/wal/00000001/\(kept.prefix(16))")
                .filter { $0.count == 24 + 4 }.map { String($0.prefix(24)) }
            #expect(!stored.isEmpty)
            #expect(stored.allSatisfy { $0 >= kept }, "nothing before the kept backup's first segment: \(stored)")
            #expect(stored.first == kept, "the kept backup's first segment stays")
            let numbers = stored.compactMap { UInt32($0.suffix(8), radix: 16) }
            #expect(numbers == Array(numbers[0]...numbers[numbers.count - 1]), "no gap from there on: \(stored)")
            #expect(fixture.files(matching: ".backup.zst").allSatisfy { String($0.prefix(24)) >= kept }, "old backup labels went too")

            let restored = try await fixture.restorer.run(fixture.restoreRequest(.latest, name: "after-retention"))
            defer { fixture.stop(restored) }
            let copy = try await fixture.connect(to: restored)
            defer { copy.close() }
            let count: Int64 = try await copy.query("SELECT count(*) AS n FROM markers").single().decode("n")
            #expect(count == 4, "the kept base backup still restores to the end of the archive")
        }
    }

    @Test func aRepositoryOfAnotherClusterIsRefusedByBackupAndRestore() async throws {
        try await PhysicalBackupFixture.with { fixture in
            let record = try await fixture.baseBackup()
            let primary = try await fixture.primaryConnection()
            defer { primary.close() }
            try await fixture.archiveEverything(primary)
            let bound = fixture.wal.repository + "/wal/system_identifier"
            let identifier: Int64 = try await primary.query("SELECT system_identifier FROM pg_control_system()").single().decode("system_identifier")
            #expect(try String(contentsOfFile: bound, encoding: .utf8) == "\(UInt64(bitPattern: identifier))\n", "wal-push bound the repository to the cluster")

            try "42\n".write(toFile: bound, atomically: false, encoding: .utf8)
            let connection = try await fixture.harness.connect()
            defer { connection.close() }
            let id = try await fixture.harness.enqueue(kind: "base-backup", target: "base", on: connection)
            try await fixture.harness.worker(drain: true).run()
            let job = try await JobQueueLookup.job(id, on: connection)
            #expect(job.state == "failed")
            #expect(job.error?.contains("holds the WAL of cluster 42") == true, "\(job.error ?? "nil")")
            var request = fixture.restoreRequest(.latest, name: "foreign")
            request.backupID = record.id
            let error = await #expect(throws: BackupRequestError.self) { try await fixture.restorer.run(request) }
            #expect(error?.description.contains("cluster 42") == true, "\(error?.description ?? "")")
        }
    }

    @Test func latestForRestoresAndDrillsIsTheNewestLogicalBackup() async throws {
        try await PhysicalBackupFixture.with { fixture in
            let physical = try await fixture.baseBackup()
            let connection = try await fixture.harness.connect()
            defer { connection.close() }
            let drill = try await fixture.harness.enqueue(kind: "restore-drill", on: connection)
            try await fixture.harness.worker(drain: true).run()
            let job = try await JobQueueLookup.job(drill, on: connection)
            #expect(job.state == "failed")
            #expect(job.error?.contains("no backup latest") == true, "a physical copy is not taken for 'latest': \(job.error ?? "nil")")
            let byID = try await fixture.harness.enqueue(kind: "restore-drill", target: String(physical.id), on: connection)
            try await fixture.harness.worker(drain: true).run()
            let named = try await JobQueueLookup.job(byID, on: connection)
            #expect(named.error?.contains("pitr-drill") == true, "naming a physical backup points to pitr-drill: \(named.error ?? "nil")")
        }
    }

    @Test func aRoleWithoutReplicationIsToldTheGrant() async throws {
        try await PhysicalBackupFixture.with { fixture in
            let primary = try await fixture.primaryConnection()
            defer { primary.close() }
            try await primary.execute("CREATE ROLE \"plain ölé\" LOGIN")
            let variable = "ORCHESTRATOR_TEST_PLAIN_\(UUID().uuidString.replacingOccurrences(of: "-", with: "_"))"
            let user = "plain%20%C3%B6l%C3%A9"
            setenv(variable, "postgresql:///postgres?host=\(fixture.primary.socketDirectory)&port=\(PrivateCluster.port)&user=\(user)", 1)
            defer { unsetenv(variable) }
            var configuration = fixture.harness.configuration
            configuration.databases["primary"] = TargetDatabase(dbname: "postgres", urlEnv: variable)
            let connector = DatabaseConnector(orchestrator: fixture.harness.database.configuration, environment: ProcessInfo.processInfo.environment)
            let harness = Harness(database: fixture.harness.database, connector: connector, configuration: configuration)
            let connection = try await harness.connect()
            defer { connection.close() }
            let id = try await harness.enqueue(kind: "base-backup", target: "base", on: connection)
            try await harness.worker(drain: true).run()
            let job = try await JobQueueLookup.job(id, on: connection)
            #expect(job.state == "failed")
            #expect(job.error?.contains("ALTER ROLE \"plain ölé\" REPLICATION") == true, "got: \(job.error ?? "nil")")
            let catalogued = try await BackupCatalog.list(profile: "base", on: connection)
            #expect(catalogued.isEmpty)
            let leftovers = fixture.wal.files(in: fixture.wal.directory + "/backups/base").filter { !$0.hasSuffix(".lock") }
            #expect(leftovers.isEmpty, "a failed base backup leaves nothing visible: \(leftovers)")
        }
    }

    /// pg_basebackup itself fails (here: no replication entry in pg_hba.conf) while the data
    /// tar is being followed: the check stops with it, the job fails with the fix, nothing is left.
    @Test func aCopyRefusedByTheServerFailsWithTheFixAndStopsItsCheck() async throws {
        try await PhysicalBackupFixture.with { fixture in
            let hba = fixture.primary.dataDirectory + "/pg_hba.conf"
            try "local all all trust\n".write(toFile: hba, atomically: true, encoding: .utf8)
            try PrivateCluster.handToServerUser(hba)
            let primary = try await fixture.primaryConnection()
            defer { primary.close() }
            try await primary.execute("SELECT pg_reload_conf()")

            let connection = try await fixture.harness.connect()
            defer { connection.close() }
            let id = try await fixture.harness.enqueue(kind: "base-backup", target: "base", on: connection)
            let started = ContinuousClock.now
            try await fixture.harness.worker(drain: true).run()
            let job = try await JobQueueLookup.job(id, on: connection)
            // A refused copy may be transient (a reload away): the attempt failed and is retried later.
            #expect(job.state == "queued" || job.state == "failed", "state \(job.state)")
            #expect(job.error?.contains("pg_basebackup failed") == true, "got: \(job.error ?? "nil")")
            #expect(job.error?.contains("allow a replication connection for this role in pg_hba.conf") == true, "got: \(job.error ?? "nil")")
            #expect(ContinuousClock.now - started < .seconds(60), "the job ended instead of waiting for a tar that never comes")
            #expect(try await BackupCatalog.list(profile: "base", on: connection).isEmpty)
            let leftovers = fixture.wal.files(in: fixture.wal.directory + "/backups/base").filter { !$0.hasSuffix(".lock") }
            #expect(leftovers.isEmpty, "a failed base backup leaves nothing visible: \(leftovers)")
        }
    }
}

@Suite("Recovery markers")
struct RecoveryMarkerTests {
    @Test func workersWriteMarkersOnlyWhileAPhysicalProfileExists() async throws {
        let physical = Configuration(
            databases: ["app": TargetDatabase(dbname: "postgres")],
            backups: BackupSettings(profiles: ["base": BackupProfile(method: .physical, database: "app")])
        )
        try await Harness.with(configuration: physical) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await running(harness.worker()) {
                try await expectEventually(timeout: .seconds(10)) {
                    try await harness.count("SELECT count(*) AS n FROM orchestrator.recovery_markers", on: connection) >= 1
                }
            }
            let worker: String = try await connection.query("SELECT worker FROM orchestrator.recovery_markers LIMIT 1").single().decode("worker")
            #expect(worker.hasPrefix(HostInfo.hostName + ":"), "the writing worker is named: \(worker)")
        }
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await running(harness.worker()) { try await Task.sleep(for: .seconds(2)) }
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.recovery_markers", on: connection) == 0)
        }
    }
}

extension PhysicalBackupFixture {
    /// Stored WAL file names (without .zst) whose name contains `fragment`, across the repository.
    func files(matching fragment: String) -> [String] {
        let root = wal.repository + "/wal"
        var names: [String] = []
        let walker = FileManager.default.enumerator(atPath: root)
        while let path = walker?.nextObject() as? String {
            let name = (path as NSString).lastPathComponent
            if name.contains(fragment) { names.append(name) }
        }
        return names.sorted()
    }
}
