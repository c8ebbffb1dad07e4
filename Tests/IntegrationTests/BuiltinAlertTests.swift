@testable import Alerts
@testable import Backups
@testable import Database
import Foundation
@testable import Health
@testable import History
@testable import Kinds
@testable import Maintenance
import PostgresClient
@testable import Queue
@testable import Runtime
@testable import Scheduling
@testable import Settings
import TestSupport
import Testing

/// Built-in alerts about the orchestrator itself, fired and resolved by real jobs, workers,
/// schedules and the check-alerts kind.
@Suite("Built-in alerts", .serialized)
struct BuiltinAlertTests {
    static func open(_ rule: String, on connection: PostgresConnection) async throws -> [PostgresRow] {
        try await connection.query(
            "SELECT id, subject, host, severity, summary, notifications FROM orchestrator.alerts WHERE rule = $1 AND state = 'firing' ORDER BY id",
            [rule]
        ).rows
    }

    static func check(_ harness: Harness, on connection: PostgresConnection, now: Date = Date()) async throws -> AlertEvaluator.Report {
        try await AlertEvaluator(configuration: harness.configuration, logger: Harness.logger).checkBuiltin(now: now, on: connection)
    }

    @Test func aJobFailedAfterItsLastAttemptFiresUntilTheNextOneSucceeds() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let failed = try await harness.enqueue(["fail": "true", "permanent": "true"], target: "nightly", on: connection)
            try await harness.worker(drain: true).run()
            #expect(try await harness.state(of: failed, on: connection) == "failed")

            let report = try await Self.check(harness, on: connection)
            #expect(report.notices == ["firing job_failed:noop nightly"])
            let alert = try #require(try await Self.open("job_failed", on: connection).first)
            #expect(alert["subject"] == "noop nightly" && alert["host"] == "" && alert["severity"] == "warning")
            #expect(alert["summary"] == "Job \(failed) (noop nightly) failed after 1 attempt: noop told to fail (attempt 1)")
            // Checked again: still one episode, nothing new to send.
            #expect(try await Self.check(harness, on: connection).notices.isEmpty)

            // Another target failing is its own alert; a success of this one resolves it.
            let succeeded = try await harness.enqueue(target: "nightly", on: connection)
            try await harness.worker(drain: true).run()
            #expect(try await harness.state(of: succeeded, on: connection) == "succeeded")
            #expect(try await Self.check(harness, on: connection).notices == ["resolved job_failed:noop nightly"])
            #expect(try await Self.open("job_failed", on: connection).isEmpty)

            // A job that failed long ago is outside the window.
            let old = try await harness.enqueue(["fail": "true", "permanent": "true"], target: "weekly", on: connection)
            try await harness.worker(drain: true).run()
            #expect(try await harness.state(of: old, on: connection) == "failed")
            #expect(try await Self.check(harness, on: connection, now: Date().addingTimeInterval(25 * 3600)).notices.isEmpty)
            #expect(try await Self.check(harness, on: connection).notices == ["firing job_failed:noop weekly"])
        }
    }

    @Test func aStaleWorkerHeartbeatFiresPerHostAndResolvesWhenOneIsAlive() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await connection.query(
                """
                INSERT INTO orchestrator.workers (id, host, pid, queues, concurrency, version, heartbeat_at, stopped_at) VALUES
                    ('gone:1:a', 'gone', 1, '{default}', 1, 'test', now() - interval '20 minutes', NULL),
                    ('gone:2:b', 'gone', 2, '{default}', 1, 'test', now() - interval '2 hours', NULL),
                    ('stopped:1:c', 'stopped', 1, '{default}', 1, 'test', now() - interval '3 hours', now() - interval '3 hours'),
                    ('alive:1:d', 'alive', 1, '{default}', 1, 'test', now() - interval '30 seconds', NULL),
                    ('alive:2:e', 'alive', 2, '{default}', 1, 'test', now() - interval '5 hours', NULL)
                """
            )
            let report = try await Self.check(harness, on: connection)
            #expect(report.notices == ["firing worker_heartbeat@gone"])
            let alert = try #require(try await Self.open("worker_heartbeat", on: connection).first)
            #expect(alert["severity"] == "critical")
            #expect(alert["summary"]?.hasPrefix("No worker heartbeat from gone for 20 min (limit 10 min)") == true)

            try await connection.query("UPDATE orchestrator.workers SET heartbeat_at = now() WHERE id = 'gone:1:a'")
            #expect(try await Self.check(harness, on: connection).notices == ["resolved worker_heartbeat@gone"])
        }
    }

    @Test func anOverdueScheduleFiresUntilItsJobRuns() async throws {
        // Without the built-in prune-history schedule, which would be overdue as well.
        let configuration = try Configuration.parse(yaml: """
            history: {enabled: false}
            schedules:
              - {name: every-5, cron: "*/5 * * * *", kind: noop, target: scheduled}
            """)
        try await Harness.with(configuration: configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let scheduler = Scheduler(configuration: configuration, registry: JobKindRegistry.standard, identity: WorkerIdentity(), logger: Harness.logger)
            try await scheduler.sync(on: connection)
            // Not late yet: the schedule was first seen now.
            #expect(try await Self.check(harness, on: connection).notices.isEmpty)

            try await connection.query("UPDATE orchestrator.schedules SET first_seen_at = now() - interval '1 day'")
            #expect(try await Self.check(harness, on: connection).notices == ["firing schedule_overdue:every-5"])
            let alert = try #require(try await Self.open("schedule_overdue", on: connection).first)
            #expect(alert["summary"]?.contains("no scheduler enqueued it") == true)

            // Enqueued but not started: still overdue, same episode, nothing new sent.
            let tick = try await scheduler.tick(on: connection)
            #expect(tick.enqueued.count == 1)
            #expect(try await Self.check(harness, on: connection).notices.isEmpty)
            let queued = try #require(try await Self.open("schedule_overdue", on: connection).first)
            #expect(queued["id"] == alert["id"])
            #expect(queued["summary"]?.contains("is still queued") == true)

            // The check-alerts kind evaluates the same alerts from a worker; the job itself succeeds.
            let check = try await harness.enqueue(kind: "check-alerts", on: connection)
            try await harness.worker(drain: true).run()
            #expect(try await harness.state(of: check, on: connection) == "succeeded")
            #expect(try await harness.state(of: try #require(tick.enqueued.first), on: connection) == "succeeded")
            let result = try #require(try await connection.query(
                "SELECT result FROM orchestrator.job_runs WHERE job_id = $1", [check]
            ).first?["result"])
            #expect(result.contains("\"firing\""))
            // Resolved once, by the job or by this check, whichever saw the scheduled job finished.
            _ = try await Self.check(harness, on: connection)
            let episode = try #require(try await connection.query(
                "SELECT state, notifications, resolve_reason FROM orchestrator.alerts WHERE id = $1", [Int64(alert["id"] ?? "")]
            ).first)
            #expect(episode["state"] == "resolved" && episode["notifications"] == "2")
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.alerts", on: connection) == 1)
        }
    }

    @Test func stalenessOfBackupsAndDrillsPerProfile() async throws {
        let configuration = try Configuration.parse(yaml: """
            backups:
              warn_after_hours: 30
              profiles:
                daily: {globals: false, paths: [/etc/hostname]}
            alerts:
              builtin:
                drill_stale: {severity: critical, after_days: 10}
            """)
        try await Harness.with(configuration: configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let report = try await Self.check(harness, on: connection)
            #expect(Set(report.notices) == ["firing backup_stale:daily", "firing drill_stale:daily"])
            let rows = try await connection.query(
                "SELECT rule, severity, summary, threshold FROM orchestrator.alerts ORDER BY rule"
            ).rows.map { "\($0["rule"]!) \($0["severity"]!) \($0["threshold"]!) \($0["summary"]!)" }
            #expect(rows == [
                "backup_stale critical 30 Profile daily has no verified backup",
                "drill_stale critical 10 Profile daily has never passed a restore drill",
            ])
        }
    }

    @Test func anOffSiteCopyThatIsMissingOrOldFiresPerProfileAndRepository() async throws {
        let configuration = try Configuration.parse(yaml: """
            repositories:
              offsite: {url: "sftp://backup@nas.example/srv", key_file: /etc/k, host_key: "SHA256:0vN1fJ4Qf4k0t7oZc2e6V4oUoQe9m0m5pQz2bq1n9aE", warn_after_hours: 20}
            backups:
              profiles:
                daily: {globals: false, paths: [/etc/hostname], copy_to: [offsite]}
            alerts:
              builtin:
                backup_stale: {enabled: false}
                drill_stale: {enabled: false}
            """)
        try await Harness.with(configuration: configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let report = try await Self.check(harness, on: connection)
            #expect(report.notices == ["firing copy_stale:daily@offsite"])
            let summary: String? = try await connection.query("SELECT summary FROM orchestrator.alerts WHERE rule = 'copy_stale'").first?.decode("summary")
            #expect(summary == "Profile daily has no verified copy in offsite")
            let freshness = try await BackupFreshness.load(configuration: configuration, on: connection)
            #expect(freshness.first?.warnings.contains("profile daily has no verified copy in offsite") == true, "\(freshness)")

            // A verified copy of a backup taken 30 h ago is older than the 20 h allowed; of one taken now, it resolves.
            try await connection.execute("""
                INSERT INTO orchestrator.backups (profile, label, location, host, started_at, finished_at, bytes, file_count, manifest, manifest_sha256, verified_at, verify_status)
                VALUES ('daily', 'old', '/nowhere/old', 'h', now() - interval '30 hours', now() - interval '30 hours', 1, 1, '{}', repeat('0', 64), now(), 'passed');
                INSERT INTO orchestrator.backup_copies (backup_id, repository, location, state, copied_at, verified_at, verify_status)
                SELECT id, 'offsite', 'daily/old', 'present', now(), now(), 'passed' FROM orchestrator.backups WHERE label = 'old';
                """)
            _ = try await Self.check(harness, on: connection)
            let old: String? = try await connection.query(
                "SELECT summary FROM orchestrator.alerts WHERE rule = 'copy_stale' AND state = 'firing'"
            ).first?.decode("summary")
            #expect(old == "Newest verified copy of daily in offsite holds a backup 30 h old (limit 20 h)")
            try await connection.execute("""
                INSERT INTO orchestrator.backups (profile, label, location, host, started_at, finished_at, bytes, file_count, manifest, manifest_sha256, verified_at, verify_status)
                VALUES ('daily', 'new', '/nowhere/new', 'h', now(), now(), 1, 1, '{}', repeat('0', 64), now(), 'passed');
                INSERT INTO orchestrator.backup_copies (backup_id, repository, location, state, copied_at, verified_at, verify_status)
                SELECT id, 'offsite', 'daily/new', 'present', now(), now(), 'passed' FROM orchestrator.backups WHERE label = 'new';
                """)
            _ = try await Self.check(harness, on: connection)
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.alerts WHERE rule = 'copy_stale' AND state = 'firing'", on: connection) == 0)
        }
    }
}
