import Database
import Foundation
import Health
import Hummingbird
import Kinds
import HummingbirdTesting
import Logging
import OrchestratorWeb
import PostgresClient
import Runtime
import Settings
import Testing

/// A dashboard over a harness database, driven through HummingbirdTesting's router client, and
/// the rows the dashboard tests expect to see.
struct DashboardFixture {
    static let token = "correct-horse-battery-staple-0123"
    static let hostile = "<script>alert(1)</script>"

    static func test<T: Sendable>(_ harness: Harness, token: String? = nil, sharedFor: Duration = Dashboard.defaultSharedFor,
                                  _ body: @Sendable @escaping (any TestClientProtocol) async throws -> T) async throws -> T {
        let database = DashboardDatabase(connector: harness.connector)
        defer { database.close() }
        let dashboard = Dashboard(configuration: harness.configuration, database: database, token: token.map(AccessToken.init),
                                  kinds: JobKindRegistry.standard.names, preparer: JobKindRegistry.standard, logger: Harness.logger,
                                  sharedFor: sharedFor)
        return try await Application(router: dashboard.router()).test(.router, body)
    }

    /// Jobs, runs, a verified backup with a passed drill, a firing alert and two health runs,
    /// with hostile text wherever the database holds free text.
    static func populate(_ connection: PostgresConnection) async throws {
        let fx = HistoryFixtures(connection: connection)
        try await fx.job("vacuum", target: hostile, state: "failed", daysAgo: 0.1, seconds: 4, error: "boom \(hostile)")
        try await fx.job("vacuum", target: "app", state: "succeeded", daysAgo: 0.2, seconds: 2)
        try await fx.job("backup", target: "daily", state: "succeeded", daysAgo: 0.3, seconds: 10)
        try await connection.query(
            """
            INSERT INTO orchestrator.jobs (kind, state, queue, run_at, created_at, enqueued_by)
            SELECT 'noop', 'queued', q, now(), now() - interval '10 minutes', 'tests' FROM unnest(ARRAY['default', 'default', 'host:x']) q
            """
        )
        let backupID: Int64 = try await connection.query(
            """
            INSERT INTO orchestrator.backups (profile, label, location, host, started_at, finished_at, bytes, file_count, manifest,
                                              manifest_sha256, verified_at, verify_status)
            VALUES ('daily', 'b1', '/b/b1', 'h', now() - interval '2 hours' - interval '90 seconds', now() - interval '2 hours', 123456789, 3,
                    '{}', repeat('a', 64), now() - interval '1 hour', 'passed')
            RETURNING id
            """
        ).first!.decode("id")
        try await connection.query(
            """
            INSERT INTO orchestrator.restore_drills (backup_id, started_at, finished_at, status, restore_seconds, backup_age)
            VALUES ($1, now() - interval '30 minutes', now() - interval '29 minutes', 'passed', 42.5, interval '95 minutes')
            """,
            [backupID]
        )
        try await connection.query(
            """
            INSERT INTO orchestrator.alerts (rule, source, subject, host, severity, summary, first_seen_at, fired_at, last_seen_at)
            VALUES ('disk_full', 'builtin', $1, 'h', 'critical', $2, now() - interval '1 hour', now() - interval '1 hour', now())
            """,
            [hostile, "disk \(hostile) is full"]
        )
        for minutesAgo in [120.0, 5.0] {
            try await HealthStore.store(HealthRun(
                host: "nuc", takenAt: Date().addingTimeInterval(-minutesAgo * 60), durationMs: 5, databaseMs: 1,
                samples: [
                    HealthSample(.system, "host", "cpu.usage_percent", value: minutesAgo == 5 ? 97 : 20, unit: "percent"),
                    HealthSample(.system, "/", "disk.used_percent", value: 50, unit: "percent"),
                    HealthSample(.system, "/var/\"quoted\"\\dir\nnext", "disk.used_percent", value: 91, unit: "percent"),
                    HealthSample(.postgres, "trading", "pg.size_bytes", value: 1_048_576, unit: "bytes"),
                ]
            ), jobID: nil, on: connection)
        }
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}
