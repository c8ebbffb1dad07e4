@testable import Backups
@testable import Database
import Foundation
import PostgresClient
@testable import Queue
import RemoteFiles
@testable import Settings
@testable import Support
import TestSupport
import Testing

/// Off-site copies against a real OpenSSH server on loopback (its own host key, a key-only
/// login): copy, read back, commit, restore from the copy alone, resume, refuse, prune.
@Suite("Off-site copies", .serialized)
struct BackupCopyTests: BackupFixture {
    /// The backup fixture with an `offsite` repository on a private sshd, copied to by `daily`.
    func withCopyHarness(
        hostKey: String? = nil, url: ((LoopbackSSHServer) -> String)? = nil, retention: RetentionPolicy = RetentionPolicy(),
        encryptTo: [String] = [], identityFile: String? = nil,
        _ body: (Harness, LoopbackSSHServer, String) async throws -> Void
    ) async throws {
        let server = try LoopbackSSHServer()
        defer { server.stop() }
        try await withBackupHarness { harness, scratch, _ in
            var configuration = harness.configuration
            let remote = server.root + "/repository"
            try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
            configuration.repositories = [
                "offsite": RepositorySettings(
                    url: url?(server) ?? server.url(path: remote), keyFile: server.privateKeyFile,
                    hostKey: hostKey ?? server.hostKeySHA256, retention: retention
                ),
            ]
            configuration.backups.profiles["daily"]?.copyTo = ["offsite"]
            configuration.backups.profiles["daily"]?.encryptTo = encryptTo
            configuration.backups.identityFile = identityFile
            let problems = configuration.validate().filter { $0.path.hasPrefix("repositories") || $0.path.contains("copy_to") }
            try #require(problems.isEmpty, "\(problems)")
            let copying = Harness(database: harness.database, connector: harness.connector, configuration: configuration)
            try await body(copying, server, remote)
        }
    }

    func copyJob(of backup: Int64, on connection: PostgresConnection) async throws -> JobRecord? {
        let id: Int64? = try await connection.query(
            "SELECT id FROM orchestrator.jobs WHERE kind = 'copy-backup' AND target = $1 ORDER BY id DESC LIMIT 1", [String(backup)]
        ).first?.decode("id")
        guard let id else { return nil }
        return try await JobQueue.job(id: id, on: connection)
    }

    /// The result of a job's last run, as an object.
    func lastResult(of job: Int64, on connection: PostgresConnection) async throws -> [String: JSONValue] {
        guard case .object(let fields)? = try await JobQueue.runs(jobID: job, on: connection).last?.result else { return [:] }
        return fields
    }

    /// Runs the copy of a backup whose earlier copy was cut off: expects it to succeed, keeping
    /// the `alreadySent` files found complete and sending only the rest of `files`, and the copy
    /// to be present.
    func expectCopyResumed(_ harness: Harness, backupID: Int64, files: Int, alreadySent: Int, on connection: PostgresConnection) async throws {
        let resumed = try await run(harness, kind: "copy-backup", target: String(backupID), ["repository": "offsite"])
        #expect(resumed.job?.state == .succeeded, "\(resumed.job?.lastError ?? "")")
        let result = try await lastResult(of: resumed.id, on: connection)
        #expect(result["files_resumed"] == .int(Int64(alreadySent)), "\(result)")
        #expect(result["files_sent"] == .int(Int64(files - alreadySent)), "\(result)")
        #expect(try await BackupCopyCatalog.find(backupID: backupID, repository: "offsite", on: connection)?.state == "present")
    }

    /// Restores `backupID` from the `offsite` copy into a new database, checks its rows (the
    /// fixture's 20,000 trades and the 3 rows of its hostile-named table), drops it, and checks
    /// that nothing fetched is left behind.
    func expectRestoredFromCopy(_ harness: Harness, backupID: Int64, on connection: PostgresConnection) async throws {
        let target = "restored_copy_\(UInt32.random(in: 0...UInt32.max))"
        let restore = try await run(harness, kind: "restore", target: String(backupID), ["database": target, "repository": "offsite"])
        #expect(restore.job?.state == .succeeded, "\(restore.job?.lastError ?? "")")
        if restore.job?.state == .succeeded {
            let restored = try await PostgresConnection.connect(try harness.connector.configuration(forDatabase: "app", in: harness.configuration).withDatabase(target))
            defer { restored.close() }
            #expect(try await harness.count("SELECT count(*) AS n FROM trades", on: restored) == 20_000)
            #expect(try await harness.count("SELECT count(*) AS n FROM \"Odd \"\"Name\"\" here\"", on: restored) == 3)
        }
        try await connection.execute("DROP DATABASE IF EXISTS \(target)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: harness.configuration.backups.repository).filter { $0.hasPrefix(".fetch-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    /// Backs `daily` up (its job enqueues and runs the copy) and returns the backup and its copy,
    /// expecting the copy job to have succeeded and the copy to be present and read back.
    func backUpAndCopy(_ harness: Harness, on connection: PostgresConnection) async throws -> (backup: BackupRecord, copy: BackupCopyRecord) {
        #expect(try await backUp(harness).state == "succeeded")
        let backup = try await newestBackup(on: connection)
        let job = try #require(try await copyJob(of: backup.id, on: connection))
        #expect(job.state == .succeeded, "\(job.lastError ?? "")")
        let copy = try #require(try await BackupCopyCatalog.find(backupID: backup.id, repository: "offsite", on: connection))
        #expect(copy.state == "present" && copy.verifyStatus == "passed" && copy.location == "daily/\(backup.label)", "\(copy)")
        return (backup, copy)
    }

    /// Backs `daily` up without copying it anywhere (its `copy_to:` and `encrypt_to:` emptied for
    /// this one run), for tests that copy it themselves; returns the backup.
    func backUpWithoutCopying(_ harness: Harness, on connection: PostgresConnection) async throws -> BackupRecord {
        var withoutCopies = harness.configuration
        withoutCopies.backups.profiles["daily"]?.copyTo = []
        withoutCopies.backups.profiles["daily"]?.encryptTo = []
        #expect(try await backUp(Harness(database: harness.database, connector: harness.connector, configuration: withoutCopies)).state == "succeeded")
        return try await newestBackup(on: connection)
    }

    /// Two backups of `daily`, copied to a repository that keeps the last one: expects the first
    /// copy deleted and the second present in the catalog; returns both backups.
    func backUpTwiceUnderKeepLastOne(_ harness: Harness, on connection: PostgresConnection) async throws -> (first: BackupRecord, second: BackupRecord) {
        #expect(try await backUp(harness).state == "succeeded")
        let first = try await newestBackup(on: connection)
        #expect(try await backUp(harness).state == "succeeded")
        let second = try await newestBackup(on: connection)
        #expect(first.id != second.id)
        #expect(try await BackupCopyCatalog.find(backupID: first.id, repository: "offsite", on: connection)?.state == "deleted")
        #expect(try await BackupCopyCatalog.find(backupID: second.id, repository: "offsite", on: connection)?.state == "present")
        return (first, second)
    }

    func newestBackup(on connection: PostgresConnection) async throws -> BackupRecord {
        try #require(try await BackupCatalog.find("latest", profile: "daily", on: connection))
    }

    @Test func aBackupIsCopiedReadBackAndRestoredFromTheCopyAlone() async throws {
        try await withCopyHarness { harness, _, remote in
            let connection = try await harness.connect()
            defer { connection.close() }
            let (backup, copy) = try await backUpAndCopy(harness, on: connection)
            #expect(copy.bytes == backup.bytes + Int64((try Data(contentsOf: URL(fileURLWithPath: backup.location + "/manifest.json"))).count))
            let listing = try FileManager.default.contentsOfDirectory(atPath: remote + "/daily")
            #expect(listing == [backup.label], "no partial directory is left: \(listing)")
            // The same files, byte for byte.
            for file in try BackupManifest.decode(Data(contentsOf: URL(fileURLWithPath: backup.location + "/manifest.json"))).files {
                #expect(FileManager.default.contentsEqual(atPath: backup.location + "/" + file.path, andPath: remote + "/daily/\(backup.label)/" + file.path), "\(file.path)")
            }

            // The host loses its backups: the copy alone restores, verified on the way.
            try FileManager.default.removeItem(atPath: backup.location)
            try await expectRestoredFromCopy(harness, backupID: backup.id, on: connection)
            // `latest` from a repository: the newest backup with a copy there, though this host lost it.
            let drill = try await run(harness, kind: "restore-drill", target: "latest", ["repository": "offsite", "profile": "daily"])
            #expect(drill.job?.state == .succeeded, "\(drill.job?.lastError ?? "")")
            let drilled: String? = try await connection.query("SELECT repository FROM orchestrator.restore_drills ORDER BY id DESC LIMIT 1").first?.decodeIfPresent("repository")
            #expect(drilled == "offsite", "the drill records where its copy came from")
            // Nothing fetched is left behind.
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: harness.configuration.backups.repository).filter { $0.hasPrefix(".fetch-") }
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }

    @Test func aRestoreFromACopyRemovesWhatAKilledRestoreFetchedAndNothingLive() async throws {
        try await withCopyHarness { harness, _, _ in
            let connection = try await harness.connect()
            defer { connection.close() }
            #expect(try await backUp(harness).state == "succeeded")
            let backup = try await newestBackup(on: connection)
            let root = harness.configuration.backups.repository
            // A fetch whose worker was killed (no process holds its lock) and one in use now.
            let dead = root + "/.fetch-daily-\(backup.label)-1"
            let live = root + "/.fetch-daily-\(backup.label)-2"
            for directory in [dead, live] {
                try FileManager.default.createDirectory(atPath: directory + "/db", withIntermediateDirectories: true)
                try Data("partial".utf8).write(to: URL(fileURLWithPath: directory + "/db/toc.dat"))
            }
            FileManager.default.createFile(atPath: dead + ".lock", contents: nil)
            let held = try #require(try PartialBackupLock.acquire(for: live))
            defer { held.release() }

            let target = "restored_tidy_\(UInt32.random(in: 0...UInt32.max))"
            let restore = try await run(harness, kind: "restore", target: String(backup.id), ["database": target, "repository": "offsite"])
            #expect(restore.job?.state == .succeeded, "\(restore.job?.lastError ?? "")")
            try await connection.execute("DROP DATABASE IF EXISTS \(target)")
            let left = try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasPrefix(".fetch-") }.sorted()
            #expect(left == [".fetch-daily-\(backup.label)-2", ".fetch-daily-\(backup.label)-2.lock"], "\(left)")
        }
    }

    @Test func aCorruptOrMissingRemoteFileFailsVerificationNamingIt() async throws {
        try await withCopyHarness { harness, server, remote in
            let connection = try await harness.connect()
            defer { connection.close() }
            #expect(try await backUp(harness).state == "succeeded")
            let backup = try await newestBackup(on: connection)
            let copy = try #require(try await BackupCopyCatalog.find(backupID: backup.id, repository: "offsite", on: connection))
            let manifest = try BackupManifest.decode(Data(contentsOf: URL(fileURLWithPath: backup.location + "/manifest.json")))
            let victim = try #require(manifest.files.max { $0.bytes < $1.bytes })
            let path = remote + "/" + copy.location + "/" + victim.path
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count / 2] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: path))

            let repository = try RemoteRepository(named: "offsite", in: harness.configuration)
            let session = try repository.open()
            defer { session.close() }
            await #expect {
                _ = try await RemoteBackupCheck.verify(directory: copy.location, manifestSHA256: backup.manifestSHA256, session: session)
            } throws: { error in
                "\(error)" == "\(copy.location)/\(victim.path) is corrupt: SHA-256 differs from the manifest"
            }
            try FileManager.default.removeItem(atPath: path)
            await #expect {
                _ = try await RemoteBackupCheck.verify(directory: copy.location, manifestSHA256: backup.manifestSHA256, session: session)
            } throws: { error in
                "\(error)" == "\(copy.location)/\(victim.path) is missing"
            }
            _ = server
        }
    }

    @Test func anInterruptedCopyIsNeverListedAndTheNextRunResumesIt() async throws {
        try await withCopyHarness { harness, _, remote in
            let connection = try await harness.connect()
            defer { connection.close() }
            // A backup whose copy was cut off: half its files sent, its catalog row copying.
            let backup = try await backUpWithoutCopying(harness, on: connection)
            let manifest = try BackupManifest.decode(Data(contentsOf: URL(fileURLWithPath: backup.location + "/manifest.json")))
            let repository = try RemoteRepository(named: "offsite", in: harness.configuration)
            let partial = RemoteRepository.partialLocation(profile: "daily", label: backup.label)
            let sentBefore = Array(manifest.files.prefix(manifest.files.count / 2))
            try #require(!sentBefore.isEmpty)
            do {
                let session = try repository.open()
                defer { session.close() }
                for file in sentBefore {
                    _ = try await session.upload(file: backup.location + "/" + file.path, to: partial + "/" + file.path, maxBytesPerSecond: nil, progress: nil)
                }
            }
            _ = try await BackupCopyCatalog.begin(
                backupID: backup.id, repository: "offsite", location: RemoteRepository.location(profile: "daily", label: backup.label), encrypted: false, jobID: nil, on: connection
            )
            #expect(!FileManager.default.fileExists(atPath: remote + "/daily/" + backup.label), "an incomplete copy has no directory of its own")
            #expect(try await BackupCopyCatalog.live(backupIDs: [backup.id], on: connection).map(\.state) == ["copying"])

            try await expectCopyResumed(harness, backupID: backup.id, files: manifest.files.count, alreadySent: sentBefore.count, on: connection)
            #expect(try FileManager.default.contentsOfDirectory(atPath: remote + "/daily") == [backup.label])

            // Asked again, a present copy is left alone.
            let again = try await run(harness, kind: "copy-backup", target: String(backup.id), ["repository": "offsite"])
            #expect(try await lastResult(of: again.id, on: connection)["already_present"] == .bool(true))
        }
    }

    @Test func aServerWithAnotherHostKeyIsRefusedAndTheLocalBackupStands() async throws {
        // A valid fingerprint of some other key.
        let other = "SHA256:" + Data((0..<32).map { UInt8($0) }).base64EncodedString().replacingOccurrences(of: "=", with: "")
        try await withCopyHarness(hostKey: other) { harness, server, remote in
            let connection = try await harness.connect()
            defer { connection.close() }
            #expect(try await backUp(harness).state == "succeeded")
            let backup = try await newestBackup(on: connection)
            #expect(FileManager.default.fileExists(atPath: backup.location + "/manifest.json"))
            let job = try #require(try await copyJob(of: backup.id, on: connection))
            #expect(job.state == .failed && job.attempts == 1, "refused at once, not retried: \(job.state) after \(job.attempts)")
            #expect(job.lastError?.contains(server.hostKeySHA256.replacingOccurrences(of: "SHA256:", with: "")) == true, "\(job.lastError ?? "")")
            #expect((try? FileManager.default.contentsOfDirectory(atPath: remote + "/daily")) ?? [] == [], "nothing was sent")
            let copy = try #require(try await BackupCopyCatalog.find(backupID: backup.id, repository: "offsite", on: connection))
            #expect(copy.state == "copying" && copy.lastError.map { job.lastError?.contains($0) == true } == true, "\(copy)")
            #expect(BackupCopyRecord.summary(of: [copy]) == "offsite (copying, last attempt failed)")
        }
    }

    @Test func anUnreachableRepositoryIsRetriedLaterWithoutTouchingTheBackup() async throws {
        let closed = try LoopbackPort.free()
        try await withCopyHarness(url: { server in "sftp://\(server.user)@127.0.0.1:\(closed)/srv/backups" }) { harness, _, _ in
            let connection = try await harness.connect()
            defer { connection.close() }
            #expect(try await backUp(harness).state == "succeeded")
            let backup = try await newestBackup(on: connection)
            let job = try #require(try await copyJob(of: backup.id, on: connection))
            // A transient failure: queued again for a later attempt (the drain ends before the
            // backoff does), or already retried; never failed at once.
            #expect(job.state == .queued && job.attempts == 1 || job.attempts > 1, "\(job.state) after \(job.attempts) attempts")
            #expect(job.lastError?.localizedCaseInsensitiveContains("connect") == true, "\(job.lastError ?? "")")
            #expect(try await BackupCatalog.find(String(backup.id), on: connection)?.verifyStatus == "passed")
        }
    }

    @Test func eachRepositoryKeepsCopiesByItsOwnRetention() async throws {
        try await withCopyHarness(retention: RetentionPolicy(keepLast: 1)) { harness, _, remote in
            let connection = try await harness.connect()
            defer { connection.close() }
            let (first, second) = try await backUpTwiceUnderKeepLastOne(harness, on: connection)
            #expect(try FileManager.default.contentsOfDirectory(atPath: remote + "/daily") == [second.label])
            // Local retention (keep_last 7) kept both.
            #expect(FileManager.default.fileExists(atPath: first.location))
        }
    }

    /// The worker dies mid-upload (SIGKILL): nothing is listed as copied, no committed
    /// directory exists, and the job's next attempt resumes the files already complete.
    @Test func aWorkerKilledMidUploadLeavesNothingListedAndTheRetryResumes() async throws {
        try await withCopyHarness { harness, server, remote in
            let connection = try await harness.connect()
            defer { connection.close() }
            let backup = try await backUpWithoutCopying(harness, on: connection)
            let configFile = harness.configuration.backups.repository + "/../copy.yaml"
            // 400 kbit/s: the backup takes seconds to send, long enough to die in the middle.
            try """
                worker: {concurrency: 1, lease_seconds: 5, heartbeat_seconds: 1, reaper_seconds: 1, poll_seconds: 1}
                databases:
                  app: {dbname: \(harness.database.name)}
                repositories:
                  offsite: {url: "\(server.url(path: remote))", key_file: \(server.privateKeyFile), host_key: "\(server.hostKeySHA256)", max_upload_kbps: 400}
                backups:
                  repository: \(harness.configuration.backups.repository)
                  profiles:
                    daily: {databases: [app], copy_to: [offsite]}
                """.write(toFile: configFile, atomically: true, encoding: .utf8)
            let id = try await harness.enqueue(["repository": "offsite"], kind: "copy-backup", target: String(backup.id), on: connection)
            let victim = Process()
            victim.executableURL = Harness.binary
            victim.arguments = ["worker", "--config", configFile, "--log-level", "error"]
            victim.environment = ProcessInfo.processInfo.environment.merging(["ORCHESTRATOR_DATABASE_URL": try harness.database.url]) { _, new in new }
            try victim.run()
            let partial = remote + "/" + RemoteRepository.partialLocation(profile: "daily", label: backup.label)
            // Killed once a first file is complete and another is on its way.
            try await expectEventually(timeout: .seconds(60)) {
                let names = (try? FileManager.default.subpathsOfDirectory(atPath: partial)) ?? []
                let complete = names.filter { name in
                    var isDirectory: ObjCBool = false
                    return !name.hasSuffix(".part") && FileManager.default.fileExists(atPath: partial + "/" + name, isDirectory: &isDirectory) && !isDirectory.boolValue
                }
                return !complete.isEmpty && names.contains { $0.hasSuffix(".part") }
            }
            let pid = victim.processIdentifier
            kill(pid, SIGKILL)
            // Dead once the kernel shows it gone or a zombie (whoever reaps it).
            try await expectEventually(timeout: .seconds(10)) {
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
                return stat[stat.range(of: ")")!.upperBound...].split(separator: " ").first == "Z"
            }

            #expect(try await BackupCopyCatalog.find(backupID: backup.id, repository: "offsite", on: connection)?.state == "copying")
            #expect(!FileManager.default.fileExists(atPath: remote + "/daily/" + backup.label), "nothing committed")

            try await running(harness.worker()) {
                try await expectEventually(timeout: .seconds(60)) { try await harness.state(of: id, on: connection) == "succeeded" }
            }
            #expect(try await JobQueue.runs(jobID: id, on: connection).map(\.status) == [.abandoned, .succeeded])
            let result = try await lastResult(of: id, on: connection)
            #expect((result["files_resumed"].flatMap { if case .int(let n) = $0 { n } else { nil } } ?? 0) >= 1, "\(result)")
            #expect(try await BackupCopyCatalog.find(backupID: backup.id, repository: "offsite", on: connection)?.state == "present")
            #expect(try FileManager.default.contentsOfDirectory(atPath: remote + "/daily") == [backup.label])
        }
    }
}
