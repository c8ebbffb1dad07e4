@testable import Alerts
import Foundation
@testable import Health
@testable import History
import PostgresClient
@testable import Settings
import TestSupport
import Testing

/// `orchestrator report daily|weekly` and `orchestrator alerts list` over stored history, as an
/// operator runs them.
@Suite("Reports and alert listing", .serialized)
struct ReportCommandLineTests {
    @Test func reportsHaveEverySectionAndAlertsAreListed() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).yaml")
        try """
            backups:
              profiles:
                daily: {globals: false, paths: [/etc/hostname]}
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try await Harness.with(configuration: try Configuration.parse(yaml: String(contentsOf: file, encoding: .utf8))) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let environment = ["ORCHESTRATOR_DATABASE_URL": try harness.database.url]
            let now = Date()
            for (minutes, disk) in [(30.0, 80.0), (20, 85), (10, 96)] {
                let run = HealthRun(host: "nuc", takenAt: now.addingTimeInterval(-minutes * 60), durationMs: 3, databaseMs: 1, samples: [
                    HealthSample(.system, "host", "cpu.usage_percent", value: 20 + minutes, unit: "percent"),
                    HealthSample(.system, "/", "disk.used_percent", value: disk, unit: "percent"),
                    .failure(.system, "host", "temperature.celsius", "no sensor", status: .absent),
                    HealthSample(.postgres, "trading", "pg.size_bytes", value: 1_000_000 + minutes, unit: "bytes"),
                    HealthSample(.service, "postgresql", "systemd.active", value: minutes == 20 ? 0 : 1, unit: "boolean",
                                 status: minutes == 20 ? .failed : .ok, message: minutes == 20 ? "inactive (dead)" : nil),
                ])
                try await HealthStore.store(run, jobID: nil, on: connection)
                _ = try await AlertEvaluator(configuration: harness.configuration, logger: Harness.logger).afterHealthRun(run, now: run.takenAt, on: connection)
            }
            try await harness.enqueue(target: "ok", on: connection)
            try await harness.enqueue(["fail": "true", "permanent": "true"], target: "broken", on: connection)
            try await harness.worker(drain: true).run()

            let daily = try await CommandLineTests().run(["report", "daily", "--config", file.path], environment: environment)
            #expect(daily.status == 0, "\(daily.stderr)")
            let text = daily.stdout
            for section in ["== Resources ==", "== Database ==", "== Services ==", "== Maintenance runs ==", "== Backups ==", "== Alerts =="] {
                #expect(text.contains(section), "missing \(section)")
            }
            #expect(text.hasPrefix("orchestrator daily report: "))
            #expect(text.contains("disk.used_percent"))
            #expect(text.contains("96.0%"))  // the maximum
            #expect(text.contains("none (no sensor)"))
            #expect(text.contains("trading"))
            #expect(text.contains("postgresql"))
            #expect(text.contains("noop told to fail"))
            #expect(text.contains("profile daily has no verified backup"))
            #expect(text.contains("disk.used_percent:/"))
            #expect(text.contains("systemd.active:postgresql"))

            let weekly = try await CommandLineTests().run(["report", "weekly", "--json", "--config", file.path], environment: environment)
            #expect(weekly.status == 0)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(weekly.stdout.utf8)) as? [String: Any])
            #expect(json["period"] as? String == "weekly")
            let maintenance = try #require(json["maintenance"] as? [[String: Any]])
            let noop = try #require(maintenance.first { $0["kind"] as? String == "noop" })
            #expect(noop["runs"] as? Int == 2 && noop["succeeded"] as? Int == 1 && noop["jobs_failed"] as? Int == 1)
            let services = try #require(json["services"] as? [[String: Any]])
            #expect(services.first?["failed"] as? Int == 1 && services.first?["samples"] as? Int == 3)
            let alerts = try #require(json["alerts"] as? [String: Any])
            #expect(alerts["fired"] as? Int == 4)  // disk, the unit, no verified backup, no drill
            #expect(alerts["resolved"] as? Int == 1)  // the unit came back

            let open = try await CommandLineTests().run(["alerts", "list", "--config", file.path], environment: environment)
            #expect(open.status == 0)
            #expect(open.stdout.contains("disk.used_percent:/"))
            #expect(!open.stdout.contains("systemd.active"))
            let all = try await CommandLineTests().run(["alerts", "list", "--all", "--json", "--config", file.path], environment: environment)
            let listed = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])
            #expect(Set(listed.compactMap { $0["rule"] as? String }).isSuperset(of: ["disk.used_percent", "systemd.active"]))
            #expect(listed.contains { $0["state"] as? String == "resolved" })

            let status = try await CommandLineTests().run(["status", "--config", file.path], environment: environment)
            #expect(status.status == 0)
            #expect(status.stdout.contains("alerts firing: 3 (orchestrator alerts list)"))
            #expect(status.stdout.contains("  [critical] disk.used_percent of / on nuc is 96 % (above 95 %)"))

            let bad = try await CommandLineTests().run(["report", "monthly", "--config", file.path], environment: environment)
            #expect(bad.status == 64)
        }
    }

    /// The verification inside each backup job counts, not only `backups verify` runs.
    @Test func aVerifiedBackupCountsAsAVerification() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("report-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch.appendingPathComponent("app"), withIntermediateDirectories: true)
        try "threshold: 80\n".write(to: scratch.appendingPathComponent("app/app.yaml"), atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("orchestrator.yaml")
        try """
            backups:
              repository: \(scratch.path)/repository
              profiles:
                files: {globals: false, paths: [\(scratch.path)/app]}
            """.write(to: file, atomically: true, encoding: .utf8)
        try await Harness.with(configuration: try Configuration.parse(yaml: String(contentsOf: file, encoding: .utf8))) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let job = try await harness.enqueue(kind: "backup", target: "files", on: connection)
            try await harness.worker(drain: true).run()
            #expect(try await harness.state(of: job, on: connection) == "succeeded")
            let environment = ["ORCHESTRATOR_DATABASE_URL": try harness.database.url]

            let daily = try await CommandLineTests().run(["report", "daily", "--config", file.path], environment: environment)
            #expect(daily.status == 0, "\(daily.stderr)")
            let lines = daily.stdout.split(separator: "\n").map(String.init)
            let header = try #require(lines.first { $0.hasPrefix("PROFILE") && $0.contains("VERIFIED") })
            let row = try #require(lines.first { $0.hasPrefix("files ") })
            // The VERIFIED column of the profile's row.
            let column = try #require(header.range(of: "VERIFIED")).lowerBound.utf16Offset(in: header)
            let cell = row.dropFirst(column).prefix { $0 != " " }
            #expect(cell == "1", "\(daily.stdout)")

            let json = try await CommandLineTests().run(["report", "daily", "--json", "--config", file.path], environment: environment)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            let backups = try #require(report["backups"] as? [[String: Any]])
            let files = try #require(backups.first { $0["profile"] as? String == "files" })
            #expect(files["made"] as? Int == 1)
            #expect(files["verifications_passed"] as? Int == 1)
            #expect(files["verifications_failed"] as? Int == 0)
        }
    }
}
