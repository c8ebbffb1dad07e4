@testable import Backups
import Foundation
@testable import History
@testable import Kinds
import TestSupport
import Testing

/// The real binary, as an operator runs it: exit codes and messages.
@Suite("Command line")
struct CommandLineTests {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        let process = Process()
        process.executableURL = Harness.binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        try await exited(process)
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func unknownKindAndBadArgumentsExit64BeforeTouchingTheDatabase() async throws {
        let unreachable = ["ORCHESTRATOR_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"]
        let unknown = try await run(["enqueue", "bogus"], environment: unreachable)
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("unknown job kind \"bogus\"; valid kinds: analyze, backup, base-backup, check-alerts, copy-backup, file-retention, health, noop, pitr-drill, prune-backups, prune-history, reindex, restore, restore-drill, retention, sql, vacuum"))
        let badArg = try await run(["enqueue", "noop", "--arg", "ms=soon"], environment: unreachable)
        #expect(badArg.status == 64)
        #expect(badArg.stderr.contains("argument ms"))
        let noEquals = try await run(["enqueue", "noop", "--arg", "ms"], environment: unreachable)
        #expect(noEquals.status == 64)
    }

    @Test func anUnknownJobStateExits64NamingTheValidStates() async throws {
        let unreachable = ["ORCHESTRATOR_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"]
        let result = try await run(["jobs", "list", "--state", "queued,bogus"], environment: unreachable)
        #expect(result.status == 64)
        #expect(result.stderr.contains("unknown state \"bogus\"; valid: queued, running, succeeded, failed, cancelled"), "\(result.stderr)")
    }

    @Test func anUnreachableDatabaseExits69WithoutThePassword() async throws {
        let result = try await run(["status"], environment: ["ORCHESTRATOR_DATABASE_URL": "postgresql://nobody:pa55word@127.0.0.1:1/none?connect_timeout=1"])
        #expect(result.status == 69)
        #expect(result.stderr.contains("cannot connect to PostgreSQL"))
        #expect(!result.stderr.contains("pa55word"))
    }

    @Test func aBadConfigurationExits78NamingThePath() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yaml")
        try "worker:\n  concurency: 3\nschedules:\n  - name: x\n    cron: \"61 * * * *\"\n    kind: noop\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await run(["config", "check", "--config", file.path])
        #expect(result.status == 78)
        #expect(result.stderr.contains("worker.concurency: unknown key"))
        let missing = try await run(["config", "check", "--config", "/nonexistent/orchestrator.yaml"])
        #expect(missing.status == 78)
        #expect(missing.stderr.contains("file not found"))
    }

    @Test func enqueueWaitAndJSONAgainstARealDatabase() async throws {
        try await Harness.with { harness in
            let environment = ["ORCHESTRATOR_DATABASE_URL": try harness.database.url]
            let enqueued = try await run(["enqueue", "noop", "--arg", "ms=1", "--json"], environment: environment)
            #expect(enqueued.status == 0)
            let json = try JSONSerialization.jsonObject(with: Data(enqueued.stdout.utf8)) as? [String: Any]
            #expect(json?["kind"] as? String == "noop")
            #expect(json?["state"] as? String == "queued")
            let drained = try await run(["worker", "--drain", "--log-level", "error"], environment: environment)
            #expect(drained.status == 0)
            let list = try await run(["jobs", "list", "--json"], environment: environment)
            let jobs = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
            #expect(jobs?.first?["state"] as? String == "succeeded")
            let finished = try await run(["jobs", "list", "--state", "succeeded,failed", "--json"], environment: environment)
            #expect((try JSONSerialization.jsonObject(with: Data(finished.stdout.utf8)) as? [[String: Any]])?.count == 1)
            let queued = try await run(["jobs", "list", "--state", "queued", "--json"], environment: environment)
            #expect((try JSONSerialization.jsonObject(with: Data(queued.stdout.utf8)) as? [[String: Any]])?.count == 0)
            let cancelMissing = try await run(["jobs", "cancel", "424242"], environment: environment)
            #expect(cancelMissing.status == 1)
            #expect(cancelMissing.stderr.contains("job 424242 not found"))
        }
    }
}
