import Foundation
@testable import Health
@testable import Kinds
import PostgresClient
@testable import Queue
@testable import Runtime
@testable import Support
import TestSupport
import Testing

/// Stored health history: runs and samples, `latest_health`, daily rollups and pruning, and the
/// `health` kind run by a worker.
@Suite("Health history", .serialized)
struct HealthStoreTests {
    private func run(at date: Date, host: String = "h", _ samples: [HealthSample]) -> HealthRun {
        HealthRun(host: host, takenAt: date, durationMs: 5, databaseMs: 1, samples: samples)
    }

    private func cpu(_ value: Double) -> HealthSample {
        HealthSample(.system, "host", "cpu.usage_percent", value: value, unit: "percent")
    }

    @Test func aStoredRunIsTheLatestHealthAndFeedsTransactionsPerSecond() async throws {
        try await HealthPostgresTests.withApp { harness, connection in
            let sampler = HealthPostgresTests.sampler(harness)
            let first = try await sampler.sample(orchestrator: connection)
            let firstID = try await HealthStore.store(first, jobID: nil, on: connection)
            try await Task.sleep(for: .milliseconds(1100))
            let second = try await sampler.sample(orchestrator: connection)
            let secondID = try await HealthStore.store(second, jobID: nil, on: connection)
            #expect(secondID > firstID)

            let tps = try #require(HealthPostgresTests.sample(second, "app", "pg.tps"))
            #expect(tps.status == .ok)
            #expect((tps.value ?? -1) > 0)  // the first run's own queries at least

            let latest = try await connection.query(
                "SELECT run_id, category, subject, metric, value, status, message FROM orchestrator.latest_health WHERE host = 'test-host'"
            )
            #expect(latest.rows.count == second.samples.count)
            #expect(try latest.rows.allSatisfy { try $0.decode("run_id", as: Int64.self) == secondID })
            let memory = try #require(latest.rows.first { $0["metric"] == "memory.used_percent" })
            #expect(try memory.decode("value", as: Double.self) == HealthPostgresTests.sample(second, "host", "memory.used_percent")?.value)
            let temperature = try #require(latest.rows.first { $0["metric"] == "temperature.celsius" })
            #expect(temperature["status"] == "ok" || (temperature["status"] == "absent" && temperature["value"] == nil))

            let run = try #require(try await connection.query(
                "SELECT samples, failed, job_id FROM orchestrator.health_runs WHERE id = $1", [secondID]
            ).first)
            #expect(try run.decode("samples", as: Int.self) == second.samples.count)
            #expect(try run.decode("failed", as: Int.self) == second.failed.count)
            #expect(run["job_id"] == nil)
        }
    }

    @Test func oldSamplesAreRolledUpIntoDaysThenPruned() async throws {
        try await HealthPostgresTests.withApp { _, connection in
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let todayNoon = calendar.date(bySettingHour: 12, minute: 0, second: 0, of: Date())!
            func daysAgo(_ days: Int, hour: Int = 12) -> Date { todayNoon.addingTimeInterval(Double(-days * 86_400 + (hour - 12) * 3600)) }
            let failedCheck = HealthSample.failure(.check, "trades-24h", "check.value", "relation does not exist")

            try await HealthStore.store(run(at: daysAgo(20, hour: 1), [cpu(10), failedCheck]), jobID: nil, on: connection)
            try await HealthStore.store(run(at: daysAgo(20, hour: 23), [cpu(30)]), jobID: nil, on: connection)
            try await HealthStore.store(run(at: daysAgo(500), [cpu(50)]), jobID: nil, on: connection)
            try await HealthStore.store(run(at: daysAgo(1), [cpu(40)]), jobID: nil, on: connection)
            try await HealthStore.store(run(at: Date(), [cpu(70)]), jobID: nil, on: connection)

            let report = try await HealthRetention.apply(keepRawDays: 14, keepDailyDays: 400, on: connection)
            #expect(report.prunedRuns == 3)
            #expect(report.prunedDailyRows == 1)  // the day 500 days ago: rolled up, then too old to keep
            func daily() async throws -> [String: [String: String?]] {
                var result: [String: [String: String?]] = [:]
                for row in try await connection.query(
                    "SELECT day::text AS day, metric, min, avg, max, count, failed FROM orchestrator.health_daily WHERE host = 'h'"
                ).rows {
                    let key = "\(row["day"]!) \(row["metric"]!)"
                    result[key] = ["min": row["min"], "avg": row["avg"], "max": row["max"], "count": row["count"], "failed": row["failed"]]
                }
                return result
            }
            let day = { (date: Date) in date.postgresText.prefix(10) }
            let rolled = try await daily()
            #expect(rolled["\(day(daysAgo(20))) cpu.usage_percent"] == ["min": "10", "avg": "20", "max": "30", "count": "2", "failed": "0"])
            #expect(rolled["\(day(daysAgo(20))) check.value"] == ["min": nil, "avg": nil, "max": nil, "count": "0", "failed": "1"])
            #expect(rolled["\(day(daysAgo(1))) cpu.usage_percent"]?["avg"] == "40")  // complete day, raw rows kept
            #expect(rolled.count == 3)  // nothing for today (incomplete) or 500 days ago (pruned)

            let remaining = try await connection.query("SELECT count(*) AS n FROM orchestrator.health_samples WHERE host = 'h'").first!.decode("n", as: Int.self)
            #expect(remaining == 2)  // yesterday and now

            // Running again changes nothing: days are recomputed from complete raw rows only.
            let again = try await HealthRetention.apply(keepRawDays: 14, keepDailyDays: 400, on: connection)
            #expect(again.prunedRuns == 0 && again.prunedDailyRows == 0)
            #expect(try await daily() == rolled)
        }
    }

    @Test func latestHealthIsEachHostsNewestRunAndTheLaterOfTwoAtOneInstant() async throws {
        try await HealthPostgresTests.withApp { _, connection in
            let now = Date()
            for (host, secondsAgo, value) in [("a", 600.0, 1.0), ("a", 300, 2), ("a", 300, 3), ("b", 900, 4), ("c", 1200, 5), ("c", 60, 6)] {
                _ = try await HealthStore.store(run(at: now.addingTimeInterval(-secondsAgo), host: host, [cpu(value)]), jobID: nil, on: connection)
            }
            let latest = try await LatestHealthSample.load(metrics: ["cpu.usage_percent"], on: connection)
            #expect(latest.map(\.host) == ["a", "b", "c"])
            #expect(latest.map(\.value) == [3, 4, 6])
        }
    }

    @Test func theHealthKindSamplesStoresAndRecordsItsJob() async throws {
        try await HealthPostgresTests.withApp { harness, connection in
            let id = try await harness.enqueue(kind: "health", on: connection)
            let job = try #require(try await JobQueue.job(id: id, on: connection))
            #expect(job.queue == "host:\(HostInfo.hostName)")
            try await harness.worker(drain: true).run()
            #expect(try await harness.state(of: id, on: connection) == "succeeded")
            let result = try await JobQueue.runs(jobID: id, on: connection).last?.result
            guard case .object(let object)? = result, case .int(let runID)? = object["run_id"] else {
                Issue.record("unexpected result \(String(describing: result))")
                return
            }
            #expect((object["samples"]?.intValue ?? 0) > 20)
            let stored = try #require(try await connection.query("SELECT job_id, host FROM orchestrator.health_runs WHERE id = $1", [runID]).first)
            #expect(try stored.decode("job_id", as: Int64.self) == id)
            #expect(try stored.decode("host", as: String.self) == HostInfo.hostName)
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.latest_health WHERE metric = 'pg.up' AND value = 1", on: connection) == 1)
            #expect(throws: JobValidationError.self) {
                try JobKindRegistry.standard.prepare(JobRequest(kind: "health", target: "app", enqueuedBy: "tests"), configuration: harness.configuration, hostName: "h")
            }
        }
    }
}
