import Archiving
@testable import Backups
import Foundation
@testable import History
@testable import Kinds
import PostgresClient
@testable import Queue
@testable import Runtime
@testable import Settings
@testable import Support
import TestSupport
import Testing

/// File sets through the worker: names that are not plain ASCII survive backup, verification
/// and restore, and a fault in a job's archive process fails that job, not the worker.
@Suite("File sets through the worker", .serialized)
struct FileSetIsolationTests {
    static let isolated = ArchiveRunner.childProcess(executable: Harness.binary.path)

    private func withFileSetHarness<T: Sendable>(_ body: (Harness, String, String) async throws -> T) async throws -> T {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("filesets-\(UUID().uuidString)").path
        let app = scratch + "/app"
        try FileManager.default.createDirectory(atPath: app, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let configuration = Configuration(
            backups: BackupSettings(repository: scratch + "/repository", parallelJobs: 1, profiles: [
                "files": BackupProfile(databases: [], paths: [app]),
            ])
        )
        return try await Harness.with(configuration: configuration) { harness in
            try await body(harness, scratch, app)
        }
    }

    private func worker(_ harness: Harness, archiver: ArchiveRunner, drain: Bool) -> Worker {
        var settings = Harness.fastWorker
        settings.concurrency = 1
        return Worker(
            configuration: harness.configuration,
            options: .init(settings: settings, scheduler: SchedulerSettings(enabled: false), drain: drain,
                           retryBackoff: Backoff(base: .milliseconds(100), cap: .milliseconds(400)), archiver: archiver),
            connector: harness.connector, registry: .standard, logger: Harness.logger
        )
    }

    private func enqueue(_ harness: Harness, kind: String, target: String?, _ arguments: [String: String] = [:], maxAttempts: Int? = nil) async throws -> Int64 {
        let connection = try await harness.connect()
        defer { connection.close() }
        var prepared = try JobKindRegistry.standard.prepare(
            JobRequest(kind: kind, target: target, arguments: arguments, enqueuedBy: "tests"),
            configuration: harness.configuration, hostName: HostInfo.hostName
        )
        if let maxAttempts { prepared.maxAttempts = maxAttempts }
        return try await JobQueue.enqueue(prepared, on: connection).id
    }

    @Test(arguments: [ArchiveRunner.inProcess, isolated])
    func namesThatAreNotASCIISurviveBackupVerifyAndRestore(archiver: ArchiveRunner) async throws {
        try await withFileSetHarness { harness, scratch, app in
            let invalid = ArchivePath(bytes: Array("bad".utf8) + [0xff, 0xfe] + Array(".txt".utf8))
            var deep = ArchivePath(bytes: [])
            for level in 0..<20 { deep = deep.appending(ArchivePath(String(format: "n%02d-", level) + String(repeating: "ü", count: 98))) }
            try RawTree.create([
                ("données-ü.txt", .file(Array("contenu".utf8))),
                (invalid, .file([0xff, 0, 1])),
                ("line\nbreak", .file(Array("x".utf8))),
                ("lien-ü", .symlink("données-ü.txt")),
                (ArchivePath(bytes: [0xfe] + Array("link".utf8)), .symlink(invalid)),
                (deep, .directory),
                (deep.appending("fin-ü.txt"), .file(Array(repeating: 1, count: 5000))),
            ], under: app)
            let source = try RawTree.snapshot(of: app)

            let backup = try await enqueue(harness, kind: "backup", target: "files")
            try await worker(harness, archiver: archiver, drain: true).run()
            let connection = try await harness.connect()
            defer { connection.close() }
            let runs = try await JobQueue.runs(jobID: backup, on: connection)
            #expect(try await harness.state(of: backup, on: connection) == "succeeded", "\(runs.map { $0.error ?? "-" })")
            let record = try #require(try await BackupCatalog.find("latest", on: connection))
            #expect(record.verifyStatus == "passed")

            let restored = scratch + "/restored"
            let restore = try await enqueue(harness, kind: "restore", target: "latest", ["files_to": restored])
            try await worker(harness, archiver: archiver, drain: true).run()
            #expect(try await harness.state(of: restore, on: connection) == "succeeded")
            let extracted = try RawTree.snapshot(of: restored + "/" + String(app.drop { $0 == "/" }))
            #expect(extracted.count == source.count)
            for (path, node) in source {
                #expect(extracted[path] == node, "\(path)")
            }
        }
    }

    @Test func aCrashingArchiveProcessFailsItsJobAndTheWorkerGoesOn() async throws {
        try await withFileSetHarness { harness, scratch, app in
            // A large sparse file keeps the archive process busy long enough to be caught.
            let big = open(app + "/big.bin", O_WRONLY | O_CREAT, 0o600)
            #expect(ftruncate(big, 3 << 30) == 0)
            close(big)
            let configFile = scratch + "/orchestrator.yaml"
            try """
                worker: {concurrency: 1, lease_seconds: 5, heartbeat_seconds: 1, reaper_seconds: 1, poll_seconds: 1}
                backups:
                  repository: \(scratch)/repository
                  profiles:
                    files: {paths: [\(app)]}
                """.write(toFile: configFile, atomically: true, encoding: .utf8)
            let backup = try await enqueue(harness, kind: "backup", target: "files", maxAttempts: 1)

            // The real service, as systemd runs it.
            let worker = Process()
            worker.executableURL = Harness.binary
            worker.arguments = ["worker", "--config", configFile, "--log-level", "error"]
            // The Swift runtime's backtracer handles SIGSEGV and returns: a real fault faults again
            // and the process dies, but a SIGSEGV sent with kill() would be survived. Without the
            // backtracer the sent signal ends the child as a real fault does.
            let environment = ["ORCHESTRATOR_DATABASE_URL": try harness.database.url, "SWIFT_BACKTRACE": "enable=no"]
            worker.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            worker.standardOutput = FileHandle.nullDevice
            try worker.run()
            defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL) } }

            let child = try #require(try await Self.archiveChild(of: worker.processIdentifier, timeout: .seconds(60)), "no archive child process appeared")
            try await Task.sleep(for: .milliseconds(300))  // well into its work, handlers installed
            #expect(kill(child, SIGSEGV) == 0)
            let connection = try await harness.connect()
            defer { connection.close() }
            try await expectEventually(timeout: .seconds(60)) { try await harness.state(of: backup, on: connection) == "failed" }
            let error = try await JobQueue.runs(jobID: backup, on: connection).first?.error ?? ""
            #expect(error.contains("killed by signal \(SIGSEGV)"), "\(error)")
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.backups", on: connection) == 0)

            // The same worker process is alive and still runs work.
            #expect(worker.isRunning)
            let next = try await enqueue(harness, kind: "noop", target: nil)
            try await expectEventually(timeout: .seconds(30)) { try await harness.state(of: next, on: connection) == "succeeded" }
            kill(worker.processIdentifier, SIGTERM)
            try await exited(worker)
            #expect(worker.terminationReason == .exit)
        }
    }

    @Test func theArchiveChildHoldsTheBackupsWriterLock() async throws {
        try await withFileSetHarness { harness, _, app in
            let big = open(app + "/big.bin", O_WRONLY | O_CREAT, 0o600)
            #expect(ftruncate(big, 3 << 30) == 0)
            close(big)
            let backup = try await enqueue(harness, kind: "backup", target: "files", maxAttempts: 1)
            let worker = worker(harness, archiver: Self.isolated, drain: false)
            try await running(worker) {
                let child = try #require(try await Self.archiveChild(of: getpid(), timeout: .seconds(60)), "no archive child process appeared")
                // Were the worker to die now, the next backup would wait for this child too.
                let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(child)/fd")) ?? []
                let targets = descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(child)/fd/\($0)") }
                #expect(targets.contains { $0.contains("/.partial-") && $0.hasSuffix(".lock") }, "\(targets)")
                let connection = try await harness.connect()
                defer { connection.close() }
                try await expectEventually(timeout: .seconds(120)) { try await harness.state(of: backup, on: connection) == "succeeded" }
            }
        }
    }

    /// The pid of `parent`'s child running `orchestrator archive-task`, once there is one.
    private static func archiveChild(of parent: pid_t, timeout: Duration) async throws -> pid_t? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = pid_t(name),
                      let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                guard fields.count > 1, pid_t(fields[1]) == parent,
                      let command = FileManager.default.contents(atPath: "/proc/\(name)/cmdline"),
                      command.split(separator: 0).contains(where: { $0.elementsEqual(ArchiveRunner.command.utf8) }) else { continue }
                return pid
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }
}
