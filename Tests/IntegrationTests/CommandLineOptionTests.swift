import Foundation
@testable import Queue
import TestSupport
import Testing

/// Option values as an operator types them: out-of-range times, negative numbers, and the
/// global options before the command.
@Suite("Command line options")
struct CommandLineOptionTests {
    let unreachable = ["ORCHESTRATOR_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"]

    @Test(arguments: ["+99999999999d", "+101y", "+infd", "+nand", "+1e400s", "-99999999999d", "9999-01-01T00:00:00Z", "tomorrow", "+d"])
    func aBadTimeExits64WithTheAcceptedForms(at: String) async throws {
        let result = try await CommandLineTests().run(["enqueue", "noop", "--at", at], environment: unreachable)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("--at \(at.debugDescription)"))
        #expect(result.stderr.contains("ISO 8601 with a zone (2026-11-25T02:00:00Z) or +N / -N followed by s, m, h or d"))
        #expect(!result.stderr.contains("out of range"), "no SQL error: \(result.stderr)")
    }

    @Test func negativePrioritiesAndPastTimesParseWithoutAnEqualsSign() async throws {
        try await Harness.with { harness in
            let environment = ["ORCHESTRATOR_DATABASE_URL": try harness.database.url]
            let result = try await CommandLineTests().run(["enqueue", "noop", "--priority", "-5", "--at", "-10m", "--json"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let connection = try await harness.connect()
            defer { connection.close() }
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let id = try #require(json["id"] as? Int)
            let job = try #require(try await JobQueue.job(id: Int64(id), on: connection))
            #expect(job.priority == -5)
            let ago = Date().timeIntervalSince(job.runAt)
            #expect(ago > 9 * 60 && ago < 11 * 60)

            let outOfRange = try await CommandLineTests().run(["enqueue", "noop", "--priority", "-5000"], environment: environment)
            #expect(outOfRange.status == 64)
            #expect(outOfRange.stderr.contains("priority -5000 is out of range -1000...1000"))
        }
    }

    @Test func globalOptionsWorkBeforeTheCommand() async throws {
        try await Harness.with { harness in
            let environment = ["ORCHESTRATOR_DATABASE_URL": try harness.database.url]
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("global-\(UUID().uuidString).yaml")
            try "worker:\n  concurrency: 1\n".write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            #expect(try await CommandLineTests().run(["enqueue", "noop", "--config", file.path], environment: environment).status == 0)

            let after = try await CommandLineTests().run(["jobs", "list", "--config", file.path, "--json"], environment: environment)
            let before = try await CommandLineTests().run(["--config", file.path, "--json", "jobs", "list"], environment: environment)
            let joined = try await CommandLineTests().run(["--config=\(file.path)", "--log-level=error", "--json", "jobs", "list"], environment: environment)
            #expect(after.status == 0 && before.status == 0 && joined.status == 0, "\(before.stderr)\(joined.stderr)")
            let listed = try #require(try JSONSerialization.jsonObject(with: Data(before.stdout.utf8)) as? [[String: Any]])
            #expect(listed.count == 1)
            #expect(before.stdout == after.stdout)
            #expect(joined.stdout == after.stdout)

            // The configuration given first is the one read: a bad one is refused (78), as after.
            let bad = FileManager.default.temporaryDirectory.appendingPathComponent("global-bad-\(UUID().uuidString).yaml")
            try "worker:\n  concurency: 1\n".write(to: bad, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: bad) }
            let refused = try await CommandLineTests().run(["--config", bad.path, "status"], environment: environment)
            #expect(refused.status == 78)
            #expect(refused.stderr.contains("worker.concurency: unknown key"))
            // Nested commands too.
            let nested = try await CommandLineTests().run(["--json", "--config", file.path, "alerts", "list"], environment: environment)
            #expect(nested.status == 0, "\(nested.stderr)")
            #expect(try JSONSerialization.jsonObject(with: Data(nested.stdout.utf8)) is [Any])
        }
    }
}
