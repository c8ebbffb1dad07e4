import Foundation
import Hummingbird
import HummingbirdTesting
@testable import OrchestratorWeb
import PostgresClient
import Testing

/// `/alerts` and `/api/alerts` over real rows: firing episodes first (critical before warning),
/// then resolved ones newest first, each with its deliveries; hostile text only ever as text.
@Suite("Dashboard alerts page")
struct DashboardAlertsPageTests {
    static let hostile = DashboardFixture.hostile

    /// Two firing alerts (critical with a failed and a delivered message, warning with none) and
    /// two resolved ones (the older resolved first in id order).
    static func populate(_ connection: PostgresConnection) async throws -> (critical: Int64, warning: Int64, older: Int64, newer: Int64) {
        func alert(_ rule: String, subject: String, severity: String, firedMinutesAgo: Int, resolvedMinutesAgo: Int?, value: Double?) async throws -> Int64 {
            try await connection.query(
                """
                INSERT INTO orchestrator.alerts (rule, source, subject, host, severity, state, value, threshold, summary,
                                                 first_seen_at, fired_at, last_seen_at, resolved_at, resolve_reason)
                VALUES ($1, 'threshold', $2, 'nuc', $3, CASE WHEN $4::int IS NULL THEN 'firing' ELSE 'resolved' END, $5, 90, $6,
                        now() - make_interval(mins => $7), now() - make_interval(mins => $7), now(),
                        now() - make_interval(mins => $4::int), CASE WHEN $4::int IS NULL THEN NULL ELSE 'cleared ' || $2 END)
                RETURNING id
                """,
                [rule, subject, severity, resolvedMinutesAgo, value, "\(rule) on \(subject) \u{00e9}\u{1F525}", firedMinutesAgo]
            ).first!.decode("id")
        }
        let critical = try await alert("disk.used_percent", subject: "/var/\(hostile)", severity: "critical", firedMinutesAgo: 30, resolvedMinutesAgo: nil, value: 97.5)
        let warning = try await alert("cpu.usage_percent", subject: "host", severity: "warning", firedMinutesAgo: 5, resolvedMinutesAgo: nil, value: 91)
        let older = try await alert("job_failed", subject: "vacuum app", severity: "warning", firedMinutesAgo: 600, resolvedMinutesAgo: 300, value: nil)
        let newer = try await alert("backup_stale", subject: "daily", severity: "critical", firedMinutesAgo: 200, resolvedMinutesAgo: 100, value: 30)
        try await connection.query(
            """
            INSERT INTO orchestrator.alert_deliveries (alert_id, channel, event, severity, delivered, attempts, error, sent_at, sent_by)
            VALUES ($1, 'ops-mail', 'firing', 'critical', false, 3, $2, now() - interval '29 minutes', 'worker@nuc'),
                   ($1, 'pager', 'firing', 'critical', true, 1, NULL, now() - interval '29 minutes', 'worker@nuc'),
                   ($3, 'pager', 'resolved', 'critical', true, 1, NULL, now() - interval '100 minutes', 'worker@nuc')
            """,
            [critical, "SMTP 554 <b>\(hostile)</b>", newer]
        )
        return (critical, warning, older, newer)
    }

    static func alerts(_ client: any TestClientProtocol, _ query: String) async throws -> [String: Any] {
        try await client.execute(uri: "/api/alerts" + query, method: .get) { response in
            #expect(response.status == .ok, "\(query)")
            return try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
        }
    }

    static func ids(_ json: [String: Any], _ key: String) -> [Int64] {
        ((json[key] as? [[String: Any]]) ?? []).compactMap { (($0["alert"] as? [String: Any])?["id"] as? NSNumber)?.int64Value }
    }

    @Test func firingAlertsComeFirstWithTheirDeliveriesThenTheResolvedOnes() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let rows = try await Self.populate(connection)
            try await DashboardFixture.test(harness) { client in
                let json = try await Self.alerts(client, "")
                #expect(Self.ids(json, "firing") == [rows.critical, rows.warning])
                #expect(Self.ids(json, "resolved") == [rows.newer, rows.older])
                let first = try #require((json["firing"] as? [[String: Any]])?.first)
                let deliveries = try #require(first["deliveries"] as? [[String: Any]])
                #expect(deliveries.map { $0["channel"] as? String } == ["ops-mail", "pager"])
                #expect(deliveries.first?["delivered"] as? Bool == false)
                #expect(deliveries.first?["error"] as? String == "SMTP 554 <b>\(Self.hostile)</b>")
                #expect((first["alert"] as? [String: Any])?["subject"] as? String == "/var/\(Self.hostile)")

                try await client.execute(uri: "/alerts", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    let page = response.text
                    #expect(page.contains(DashboardPagesTests.navigation))
                    #expect(!page.contains("<script"))
                    #expect(!page.contains("<b>"))
                    #expect(page.contains("<header class=\"top critical\"><h1>Alerts</h1><p class=\"verdict\">2 firing</p>"))
                    #expect(page.contains("disk.used_percent: /var/&lt;script&gt;alert(1)&lt;/script&gt;"))
                    #expect(page.contains("on /var/&lt;script&gt;alert(1)&lt;/script&gt; \u{00e9}\u{1F525}"))
                    #expect(page.contains("<dd>97.50 (threshold 90)</dd>"))
                    #expect(page.contains("<td>ops-mail</td><td>firing</td><td>not delivered after 3 attempts</td>"))
                    #expect(page.contains("SMTP 554 &lt;b&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/b&gt;"))
                    #expect(page.contains("<td>pager</td><td>firing</td><td>delivered</td>"))
                    #expect(page.contains("No message sent."))
                    // Order on the page: critical, warning, then resolved newest first.
                    let positions = ["disk.used_percent", "cpu.usage_percent", "<h2>Resolved</h2>", "backup_stale", "job_failed"].map {
                        page.range(of: $0)?.lowerBound
                    }
                    #expect(positions.allSatisfy { $0 != nil })
                    #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
                    #expect(page.contains("100 min ago: cleared daily"))
                }
            }
        }
    }

    @Test func filtersNarrowTheListsAndBadValuesAreRefused() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let rows = try await Self.populate(connection)
            try await DashboardFixture.test(harness) { client in
                var json = try await Self.alerts(client, "?state=resolved")
                #expect(Self.ids(json, "firing") == [])
                #expect(Self.ids(json, "resolved") == [rows.newer, rows.older])
                json = try await Self.alerts(client, "?state=firing&severity=warning")
                #expect(Self.ids(json, "firing") == [rows.warning])
                #expect(Self.ids(json, "resolved") == [])
                json = try await Self.alerts(client, "?severity=critical&limit=1")
                #expect(Self.ids(json, "firing") == [rows.critical])
                #expect(Self.ids(json, "resolved") == [rows.newer])
                json = try await Self.alerts(client, "?state=&severity=")  // an unset form field
                #expect(Self.ids(json, "firing").count == 2)

                try await client.execute(uri: "/alerts?state=resolved", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(!response.text.contains("<h2>Firing</h2>"))
                    #expect(response.text.contains("<option value=\"resolved\" selected>resolved</option>"))
                }
                let bad = ["state=bogus", "severity=" + DashboardPagesTests.encoded(DashboardPagesTests.sqlLooking), "severity=" + DashboardPagesTests.encoded("critical\u{0}"),
                           "state=" + DashboardPagesTests.encoded("f\u{00ef}ring"), "state=" + String(repeating: "f", count: 100_000), "limit=0", "limit=201", "limit=1e3"]
                for query in bad {
                    for path in ["/alerts", "/api/alerts"] {
                        try await client.execute(uri: "\(path)?\(query)", method: .get) { response in
                            #expect(response.status == .badRequest, "\(path)?\(query.prefix(40))")
                            #expect(!response.text.contains("<script"))
                            #expect(!response.text.contains("DROP"))
                        }
                    }
                }
            }
            let count: Int = try await connection.query("SELECT count(*) AS n FROM orchestrator.alerts").first!.decode("n")
            #expect(count == 4)
        }
    }

    @Test func noAlertsSaysSo() async throws {
        try await Harness.with { harness in
            try await DashboardFixture.test(harness) { client in
                try await client.execute(uri: "/alerts", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.text.contains("<header class=\"top ok\"><h1>Alerts</h1><p class=\"verdict\">nothing firing</p>"))
                    #expect(response.text.contains("No alert is firing."))
                    #expect(response.text.contains("No resolved alert."))
                }
            }
        }
    }
}
