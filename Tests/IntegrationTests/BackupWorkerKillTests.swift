@testable import Backups
import Foundation
@testable import History
import PostgresClient
@testable import Queue
@testable import Support
import TestSupport
import Testing

/// A worker killed outright mid-backup takes its pg_dump (and the server sessions) with it, and
/// the retry never races a writer that is still alive.
@Suite("Backups when the worker dies", .serialized)
struct BackupWorkerKillTests: BackupFixture {
    @Test func aWorkerKilledMidBackupTakesItsToolsAlongAndTheRetrySucceeds() async throws {
        try await withBackupHarness { harness, scratch, app in
            let connection = try await harness.connect()
            defer { connection.close() }
            let repository = scratch + "/repository"
            let configFile = scratch + "/orchestrator.yaml"
            try """
                worker: {concurrency: 1, lease_seconds: 5, heartbeat_seconds: 1, reaper_seconds: 1, poll_seconds: 1}
                databases:
                  app: {dbname: \(harness.database.name)}
                backups:
                  repository: \(repository)
                  profiles:
                    daily: {databases: [app], paths: [\(app)], excludes: [node_modules]}
                """.write(toFile: configFile, atomically: true, encoding: .utf8)
            // Hold pg_dump at its table locks so the backup is surely in flight when the worker dies.
            let blocker = try await harness.connect()
            defer { blocker.close() }
            try await blocker.execute("BEGIN; LOCK TABLE trades IN ACCESS EXCLUSIVE MODE")

            let id = try await harness.enqueue(kind: "backup", target: "daily", on: connection)
            let victim = Process()
            victim.executableURL = Harness.binary
            victim.arguments = ["worker", "--config", configFile, "--log-level", "error"]
            victim.environment = ProcessInfo.processInfo.environment.merging(["ORCHESTRATOR_DATABASE_URL": try harness.database.url]) { _, new in new }
            try victim.run()
            let profileDirectory = repository + "/daily"
            let writing = "--file=\(profileDirectory)/.partial-"
            try await expectEventually(timeout: .seconds(20)) { !LiveProcesses.matching(writing).isEmpty }
            try await Task.sleep(for: .milliseconds(500))
            let children = LiveProcesses.children(of: victim.processIdentifier)
            #expect(children.count >= 2, "pg_dump and its guard: \(children)")
            kill(victim.processIdentifier, SIGKILL)
            try await exited(victim)

            // No tool of the dead worker lives on, and none of its server sessions.
            try await expectEventually(timeout: .seconds(5)) {
                LiveProcesses.matching(writing).isEmpty && children.allSatisfy { !LiveProcesses.isAlive($0) }
            }
            let sessionsLeft = "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name <> 'orchestrator-tests'"
            let gone = try await eventually(timeout: .seconds(5)) {
                try await harness.count(sessionsLeft, [harness.database.name], on: connection) == 0
            }
            let left = try await connection.query(
                "SELECT string_agg(application_name || ' ' || state || ' ' || coalesce(wait_event, '') || ' ' || left(query, 60), '; ') AS s FROM pg_stat_activity WHERE datname = $1 AND application_name <> 'orchestrator-tests' HAVING count(*) > 0",
                [harness.database.name]
            ).first?.decode("s", as: String.self)
            #expect(gone, "sessions of the dead worker: \(left ?? "none")")
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.backups", on: connection) == 0)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: profileDirectory)
            #expect(!leftovers.isEmpty && leftovers.allSatisfy { $0.hasPrefix(".partial-") })

            // With the lock gone a surviving pg_dump would write now: nothing does.
            let before = try Self.sizes(under: profileDirectory)
            try await blocker.execute("ROLLBACK")
            try await Task.sleep(for: .seconds(2))
            #expect(try Self.sizes(under: profileDirectory) == before)

            try await running(harness.worker()) {
                try await expectEventually(timeout: .seconds(40)) { try await harness.state(of: id, on: connection) == "succeeded" }
            }
            #expect(try await JobQueue.runs(jobID: id, on: connection).map(\.status) == [.abandoned, .succeeded])
            let record = try #require(try await BackupCatalog.find("latest", on: connection))
            #expect(record.verifyStatus == "passed")
            #expect(try FileManager.default.contentsOfDirectory(atPath: profileDirectory) == [record.label])
        }
    }

    @Test func aLeftoverStillHeldByALiveWriterIsLeftAloneUntilTheWriterIsGone() async throws {
        try await withBackupHarness { harness, scratch, _ in
            let profileDirectory = scratch + "/repository/daily"
            let leftover = profileDirectory + "/.partial-20260101T000000Z-1"
            try FileManager.default.createDirectory(atPath: leftover, withIntermediateDirectories: true)
            try "half".write(toFile: leftover + "/globals.sql", atomically: false, encoding: .utf8)
            // A writer that outlived its worker: it holds the lock while it lives. Taken by hand:
            // a PartialBackupLock would close its descriptor again when released, after the
            // close below, and so close whatever descriptor reused the number meanwhile.
            let descriptor = open(leftover + ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            #expect(flock(descriptor, LOCK_EX | LOCK_NB) == 0)
            let writer = Task { try await ChildProcess.run("/bin/sleep", ["60"], inheriting: [descriptor], killGrace: .milliseconds(200)) }
            try await expectEventually(timeout: .seconds(5)) { !LiveProcesses.matching("sleep 60").isEmpty }
            close(descriptor)  // only the writer holds it now

            #expect(try await backUp(harness).state == "succeeded")
            #expect(FileManager.default.fileExists(atPath: leftover + "/globals.sql"))

            writer.cancel()
            _ = try? await writer.value
            #expect(try await backUp(harness).state == "succeeded")
            #expect(!FileManager.default.fileExists(atPath: leftover))
            #expect(!FileManager.default.fileExists(atPath: leftover + ".lock"))
        }
    }

    /// Path and size of every file below `directory`.
    private static func sizes(under directory: String) throws -> [String: Int] {
        var result: [String: Int] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let path = enumerator?.nextObject() as? String {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + path)
            result[path] = (attributes[.size] as? NSNumber)?.intValue ?? 0
        }
        return result
    }
}

/// Processes as /proc shows them; zombies count as gone (they hold nothing and write nothing).
enum LiveProcesses {
    static func all() -> [(pid: pid_t, parent: pid_t, state: Character, commandLine: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name in
            guard let pid = pid_t(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let state = fields[0].first, let parent = pid_t(fields[1]) else { return nil }
            let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(name)/cmdline"))) ?? Data()
            let commandLine = String(decoding: raw.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return (pid, parent, state, commandLine)
        }
    }

    static func matching(_ text: String) -> [pid_t] {
        all().filter { $0.state != "Z" && $0.commandLine.contains(text) && !$0.commandLine.contains("pkill") }.map(\.pid)
    }

    static func children(of parent: pid_t) -> [pid_t] {
        all().filter { $0.parent == parent && $0.state != "Z" }.map(\.pid)
    }

    static func isAlive(_ pid: pid_t) -> Bool {
        all().contains { $0.pid == pid && $0.state != "Z" }
    }
}
