import Foundation
import Hummingbird
import HummingbirdTesting
@testable import OrchestratorWeb
import PostgresClient
@testable import Settings
import Testing

/// `/backups` beyond the catalog: size, duration, RTO and RPO over time, what retention keeps
/// and why, and the backups it deleted with the reason.
@Suite("Dashboard backup trends and retention")
struct DashboardBackupTrendsTests {
    static var configuration: Configuration {
        var configuration = Configuration()
        configuration.backups.profiles["daily"] = BackupProfile(
            databases: [], paths: ["/srv/app"], retention: RetentionPolicy(keepLast: 2, keepDays: 0, daily: 0, weekly: 0, monthly: 0, minKeep: 1)
        )
        return configuration
    }

    /// Five live backups a day apart (1 GiB growing by 100 MiB a day, 10 to 50 minutes long; the
    /// oldest verified and drilled, the third pinned) and one deleted by retention, with drills
    /// whose RTO falls 60, 50, 40 s.
    static func populate(_ connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO orchestrator.backups (profile, label, location, host, started_at, finished_at, bytes, file_count, manifest,
                                              manifest_sha256, verified_at, verify_status, pinned, deleted_at, delete_reason)
            SELECT 'daily', 'b' || i, '/b/' || i, 'h', now() - make_interval(days => 6 - i) - make_interval(mins => 10 * i),
                   now() - make_interval(days => 6 - i), 1073741824 + i * 104857600, 3, '{}', repeat('a', 64),
                   CASE WHEN i = 1 THEN now() END, CASE WHEN i = 1 THEN 'passed' END, i = 3,
                   CASE WHEN i = 0 THEN now() - interval '2 days' END,
                   CASE WHEN i = 0 THEN 'outside every keep rule (keep_last=2) <b>' END
            FROM generate_series(0, 5) i
            """
        )
        try await connection.query(
            """
            INSERT INTO orchestrator.restore_drills (backup_id, started_at, finished_at, status, restore_seconds, backup_age)
            SELECT id, now() - make_interval(hours => 30 - n), now() - make_interval(hours => 29 - n), 'passed', 70 - 10 * n, make_interval(hours => n)
            FROM orchestrator.backups, generate_series(1, 3) n WHERE label = 'b1'
            """
        )
    }

    @Test func chartsRetentionAndDeletionsFromTheCatalog() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await Self.populate(connection)
            let ids: [String: Int64] = Dictionary(uniqueKeysWithValues: try await connection.query("SELECT label, id FROM orchestrator.backups").rows.map {
                (try $0.decode("label"), try $0.decode("id"))
            })
            try await DashboardFixture.test(harness) { client in
                let json = try await client.execute(uri: "/api/backups", method: .get) { response in
                    #expect(response.status == .ok)
                    return try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
                }
                let profile = try #require((json["profiles"] as? [[String: Any]])?.first)
                // The trend includes the deleted backup, oldest first.
                let trend = try #require(profile["trend"] as? [[String: Any]])
                #expect(trend.map { ($0["id"] as? NSNumber)?.int64Value } == (0...5).map { ids["b\($0)"] })
                #expect(trend.map { ($0["seconds"] as? NSNumber)?.doubleValue } == (0...5).map { Double(600 * $0) })
                // Kept: the two newest, the pinned one, the newest verified; b2 goes next.
                let kept = try #require(profile["kept_because"] as? [String: [String]])
                #expect(kept[String(ids["b5"]!)] == ["keep_last"])
                #expect(kept[String(ids["b4"]!)] == ["keep_last"])
                #expect(kept[String(ids["b3"]!)] == ["pinned"])
                #expect(kept[String(ids["b2"]!)] == [])
                #expect(kept[String(ids["b1"]!)] == ["newest_verified"])
                #expect(kept[String(ids["b0"]!)] == nil)
                let deleted = try #require(profile["deleted"] as? [[String: Any]])
                #expect(deleted.map { $0["label"] as? String } == ["b0"])
                #expect((profile["drills"] as? [Any])?.count == 3)

                try await client.execute(uri: "/backups", method: .get) { response in
                    #expect(response.status == .ok)
                    let page = response.text
                    #expect(page.contains(#"<div class="label">size, last 6</div><div class="value">1.5 GiB</div>"#))
                    #expect(page.contains(#"<div class="since">1.0 GiB – 1.5 GiB</div>"#))
                    #expect(page.contains(#"<div class="label">duration, last 6</div><div class="value">50 min</div>"#))
                    #expect(page.contains(#"<div class="label">drill RTO, last 3</div><div class="value">40 s</div>"#))
                    #expect(page.contains(#"<div class="since">40 s – 60 s</div>"#))
                    #expect(page.contains(#"<div class="label">drill RPO, last 3</div><div class="value">3.0 h</div>"#))
                    #expect(page.contains("<polyline points=\"0.0,22.0 20.0,18.0 40.0,14.0 60.0,10.0 80.0,6.0 100.0,2.0\"/>"))
                    #expect(page.contains("<td>kept: keep_last</td>"))
                    #expect(page.contains("<td>kept: pinned</td>"))
                    #expect(page.contains("<td>deleted by the next prune</td>"))
                    #expect(page.contains("<td>kept: newest_verified</td>"))
                    #expect(page.contains("<h3>Deleted</h3>"))
                    #expect(page.contains("<td>b0</td>"))
                    #expect(page.contains("<td>2.0 days ago</td><td class=\"wrap\">outside every keep rule (keep_last=2) &lt;b&gt;</td>"))
                }
            }
        }
    }

    @Test func aProfileWithOneBackupHasNoChartAndNoDeletions() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            try await DashboardFixture.test(harness) { client in
                try await client.execute(uri: "/backups", method: .get) { response in
                    let page = response.text
                    #expect(!page.contains("<svg"))
                    #expect(!page.contains("<h3>Deleted</h3>"))
                    // The default policy keeps the only backup for several reasons.
                    #expect(page.contains("<td>kept: keep_last, newest_verified</td>"))
                }
            }
        }
    }
}
