import Foundation
@testable import History
@testable import Kinds
import PostgresClient
@testable import Queue
@testable import Settings
import TestSupport
import Testing

@Suite("History retention", .serialized)
struct HistoryRetentionTests {
    @Test func pruningDeletesExactlyWhatThePolicySays() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let fx = HistoryFixtures(connection: connection)
            // Jobs: succeeded kept 90 days, failed and cancelled 365, the newest per kind and target always.
            let oldSucceeded = try await fx.job("vacuum", target: "app", state: "succeeded", daysAgo: 200)
            let pastSucceeded = try await fx.job("vacuum", target: "app", state: "succeeded", daysAgo: 100)
            let recent = try await fx.job("vacuum", target: "app", state: "succeeded", daysAgo: 10)
            let onlyOfItsKind = try await fx.job("reindex", target: "app", state: "succeeded", daysAgo: 200)
            let failedRecently = try await fx.job("vacuum", target: "app", state: "failed", daysAgo: 200)
            let oldFailed = try await fx.job("vacuum", target: "app", state: "failed", daysAgo: 400)
            let oldCancelled = try await fx.job("vacuum", target: "app", state: "cancelled", daysAgo: 400)
            let untargetedOld = try await fx.job("analyze", state: "succeeded", daysAgo: 200)
            let untargetedNewest = try await fx.job("analyze", state: "succeeded", daysAgo: 150)
            let queued: Int64 = try await connection.query(
                """
                INSERT INTO orchestrator.jobs (kind, state, run_at, created_at, enqueued_by)
                VALUES ('noop', 'queued', now() + interval '1 day', now() - interval '400 days', 'tests') RETURNING id
                """
            ).first!.decode("id")
            // Backup records keep their jobs while the backup exists.
            let keptBackupJob = try await fx.job("backup", target: "daily", state: "succeeded", daysAgo: 200)
            let goneBackupJob = try await fx.job("backup", target: "daily", state: "succeeded", daysAgo: 300)
            try await fx.job("backup", target: "daily", state: "succeeded", daysAgo: 1)
            let drillJob = try await fx.job("restore-drill", target: "latest", state: "succeeded", daysAgo: 200)
            try await fx.job("restore-drill", target: "latest", state: "succeeded", daysAgo: 1)
            let existing = try await fx.backup(jobID: keptBackupJob, deleted: false, label: "kept")
            let deleted = try await fx.backup(jobID: goneBackupJob, deleted: true, label: "gone")
            let keptVerification = try await fx.verification(backupID: existing, jobID: nil, daysAgo: 400)
            let keptDrill = try await fx.drill(backupID: existing, jobID: drillJob, daysAgo: 400)
            let goneVerification = try await fx.verification(backupID: deleted, jobID: nil, daysAgo: 400)
            let goneDrill = try await fx.drill(backupID: deleted, jobID: nil, daysAgo: 400)
            let recentVerification = try await fx.verification(backupID: deleted, jobID: nil, daysAgo: 10)
            // Alerts: resolved ones go after 365 days with their deliveries, deliveries of resolved
            // alerts after 90; firing alerts and their deliveries stay.
            let oldResolved = try await fx.alert(rule: "old", firedDaysAgo: 401, resolvedDaysAgo: 400, sentDaysAgo: [401, 400])
            let recentResolved = try await fx.alert(rule: "recent", firedDaysAgo: 100, resolvedDaysAgo: 10, sentDaysAgo: [100, 10])
            let firing = try await fx.alert(rule: "firing", firedDaysAgo: 400, resolvedDaysAgo: nil, sentDaysAgo: [400])
            for days in [200, 100, 10] { try await fx.occurrence("nightly", daysAgo: days) }
            try await fx.occurrence("yearly", daysAgo: 200)

            let id = try await harness.enqueue(kind: "prune-history", on: connection)
            try await harness.worker(drain: true).run()
            #expect(try await harness.state(of: id, on: connection) == "succeeded")

            for gone in [oldSucceeded, pastSucceeded, oldFailed, oldCancelled, untargetedOld, goneBackupJob] {
                #expect(try await !fx.exists("jobs", gone), "job \(gone) should be deleted")
            }
            for kept in [recent, onlyOfItsKind, failedRecently, untargetedNewest, queued, keptBackupJob, drillJob] {
                #expect(try await fx.exists("jobs", kept), "job \(kept) should be kept")
            }
            #expect(try await fx.count("SELECT count(*) AS n FROM orchestrator.job_runs r LEFT JOIN orchestrator.jobs j ON j.id = r.job_id WHERE j.id IS NULL") == 0)
            #expect(try await fx.exists("backup_verifications", keptVerification))
            #expect(try await fx.exists("restore_drills", keptDrill))
            #expect(try await fx.exists("backup_verifications", recentVerification))
            #expect(try await !fx.exists("backup_verifications", goneVerification))
            #expect(try await !fx.exists("restore_drills", goneDrill))
            #expect(try await !fx.exists("alerts", oldResolved))
            #expect(try await fx.exists("alerts", recentResolved))
            #expect(try await fx.exists("alerts", firing))
            #expect(try await fx.count("SELECT count(*) AS n FROM orchestrator.alert_deliveries WHERE alert_id = \(recentResolved)") == 1)
            #expect(try await fx.count("SELECT count(*) AS n FROM orchestrator.alert_deliveries WHERE alert_id = \(firing)") == 1)
            #expect(try await fx.count("SELECT count(*) AS n FROM orchestrator.schedule_occurrences WHERE schedule_name = 'nightly'") == 1)
            #expect(try await fx.count("SELECT count(*) AS n FROM orchestrator.schedule_occurrences WHERE schedule_name = 'yearly'") == 1)
            #expect(try await fx.count("SELECT coalesce(sum(runs), 0)::int AS n FROM orchestrator.job_daily") == 6)

            // The job's own result says what went from each table.
            let result = try #require(try await JobQueue.runs(jobID: id, on: connection).last?.result)
            guard case .object(let top) = result, case .object(let deletedRows)? = top["deleted"] else {
                Issue.record("unexpected result \(result)")
                return
            }
            #expect(deletedRows == [
                "jobs": .int(6), "job_runs": .int(6), "schedule_occurrences": .int(2), "alerts": .int(1),
                "alert_deliveries": .int(3), "backup_verifications": .int(1), "restore_drills": .int(1),
            ])
        }
    }

    @Test func reportFiguresSurvivePruningAndRerunsNeverCountTwice() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let fx = HistoryFixtures(connection: connection)
            let day: Date = try await connection.query(
                "SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '150 days' AS d"
            ).first!.decode("d")
            func at(_ hours: Double) -> String { ISO8601DateFormatter().string(from: day.addingTimeInterval(hours * 3600)) }
            try await fx.job("vacuum", target: "app", state: "succeeded", at: at(1), seconds: 3)
            try await fx.job("vacuum", target: "app", state: "succeeded", at: at(5), runs: ["failed", "succeeded"], seconds: 7)
            try await fx.job("vacuum", target: "app", state: "failed", at: at(9), runs: ["failed", "timed_out"], seconds: 11, error: "disk full")
            try await fx.job("reindex", target: "app", state: "cancelled", at: at(23.5), seconds: 1)
            // Runs that straddle midnight count on the day they started, in both places.
            try await fx.job("reindex", target: "app", state: "succeeded", at: at(24.02), runs: ["abandoned", "succeeded"], seconds: 60)
            // Newer jobs of the same kinds and targets, so every old one may go.
            try await fx.job("vacuum", target: "app", state: "succeeded", daysAgo: 1)
            try await fx.job("reindex", target: "app", state: "succeeded", daysAgo: 1)

            let configuration = harness.configuration
            let weekEnd = day.addingTimeInterval(3 * 86_400)
            let dayEnd = day.addingTimeInterval(86_400)
            let weekBefore = try await PeriodReport.load(.weekly, configuration: configuration, now: weekEnd, on: connection).maintenance
            let dayBefore = try await PeriodReport.load(.daily, configuration: configuration, now: dayEnd, on: connection).maintenance
            #expect(weekBefore.map(\.runs) == [3, 5])
            #expect(dayBefore.map(\.runs) == [2, 5])
            #expect(try await fx.count("SELECT count(*) AS n FROM orchestrator.job_daily") == 0)

            var settings = HistorySettings()
            settings.keepFailedDays = 100
            let retention = HistoryRetention(settings: settings, logger: Harness.logger)
            let first = try await retention.apply(on: connection)
            #expect(first.deleted["jobs"] == 5)
            #expect(first.deleted["job_runs"] == 8)
            let second = try await retention.apply(on: connection)
            #expect(second.deleted["jobs"] == 0)
            #expect(try await fx.count("SELECT sum(runs)::int AS n FROM orchestrator.job_daily") == 8)

            let weekAfter = try await PeriodReport.load(.weekly, configuration: configuration, now: weekEnd, on: connection).maintenance
            let dayAfter = try await PeriodReport.load(.daily, configuration: configuration, now: dayEnd, on: connection).maintenance
            for (before, after) in zip(weekBefore + dayBefore, weekAfter + dayAfter) {
                #expect(before.kind == after.kind)
                let counts = { (r: PeriodReport.Runs) -> [Int] in [r.runs, r.succeeded, r.failed, r.timedOut, r.cancelled, r.abandoned, r.jobsFailed] }
                #expect(counts(before) == counts(after))
                #expect(abs(before.totalSeconds - after.totalSeconds) < 0.001)
                #expect(before.longestSeconds == after.longestSeconds)
                #expect(before.lastError == after.lastError)
            }
            #expect(weekAfter.count == weekBefore.count && dayAfter.count == dayBefore.count)
            #expect(dayAfter.first { $0.kind == "vacuum" }?.jobsFailed == 1)
            #expect(dayAfter.first { $0.kind == "vacuum" }?.lastError == "disk full")
        }
    }

    @Test func theBuiltinScheduleIsAddedUnlessDisabledOrScheduledByTheOperator() throws {
        let builtin = try Configuration.parse(yaml: "worker: {concurrency: 1}\n")
        #expect(builtin.schedules.filter { $0.kind == "prune-history" }.map(\.cron) == ["40 3 * * *"])
        let off = try Configuration.parse(yaml: "history: {enabled: false}\n")
        #expect(!off.schedules.contains { $0.kind == "prune-history" })
        let own = try Configuration.parse(yaml: "schedules:\n  - {name: tidy, cron: \"0 5 * * SUN\", kind: prune-history}\n")
        #expect(own.schedules.filter { $0.kind == "prune-history" }.map(\.name) == ["tidy"])
        #expect(own.validate(registry: .standard).isEmpty)
    }

    @Test(arguments: [
        ("history:\n  keep_days: 30\n", "history.keep_days: unknown key; allowed: enabled, schedule, keep_succeeded_days"),
        ("history:\n  keep_succeeded_days: 0\n", "history.keep_succeeded_days: must be 1...36500 days, got 0"),
        ("history:\n  keep_failed_days: forever\n", "history.keep_failed_days: expected an integer"),
        ("history:\n  keep_deliveries_days: 400\n", "history.keep_deliveries_days: must not exceed keep_alerts_days (365)"),
        ("history:\n  schedule: \"61 3 * * *\"\n", "history.schedule: "),
        ("history:\n  target_batch_ms: 0\n", "history.target_batch_ms: must be 1...60000, got 0"),
    ])
    func mistakesAreReportedWithTheirPath(yaml: String, expected: String) {
        let found: [String]
        do {
            found = try Configuration.parse(yaml: yaml).validate(registry: .standard).map(\.description)
        } catch {
            found = error.errors.map(\.description)
        }
        #expect(found.contains { $0.hasPrefix(expected) }, "got \(found)")
        #expect(!found.contains { $0.hasPrefix("schedules[") }, "got \(found)")
    }
}
