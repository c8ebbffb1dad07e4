import Foundation
import Health
import Hummingbird
import HummingbirdTesting
@testable import OrchestratorWeb
import PostgresClient
import Settings
import Testing

/// `/health` and `/api/health`: the list of the newest samples, one series' chart from raw samples
/// or daily rollups, the threshold lines that apply, and parameters checked before any query.
@Suite("Dashboard health page")
struct DashboardHealthPageTests {
    static let hostile = DashboardFixture.hostile

    /// The default thresholds, plus a rule for the trading checks: fewer than 10 trades warns,
    /// none is critical.
    static var configuration: Configuration {
        var configuration = DashboardTests.configuration
        configuration.alerts.thresholds = [ThresholdRule(metric: "check.value", subject: "trades-*", warning: 10, critical: 1, below: true)]
        return configuration
    }

    /// Everything but ASCII letters and digits percent-encoded.
    static func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))!
    }

    static func number(_ value: Any?) -> Double? {
        (value as? NSNumber)?.doubleValue
    }

    static func json(_ client: any TestClientProtocol, _ uri: String) async throws -> [String: Any] {
        try await client.execute(uri: uri, method: .get) { response in
            #expect(response.status == .ok, "\(uri)")
            return try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
        }
    }

    static func page(_ client: any TestClientProtocol, _ uri: String) async throws -> String {
        try await client.execute(uri: uri, method: .get) { response in
            #expect(response.status == .ok, "\(uri)")
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            return response.text
        }
    }

    static func chart(_ client: any TestClientProtocol, _ query: String) async throws -> [String: Any] {
        try #require(try await json(client, "/api/health?" + query)["chart"] as? [String: Any])
    }

    static func points(_ chart: [String: Any]) throws -> [[String: Any]] {
        let history = try #require(chart["history"] as? [String: Any])
        return try #require(history["points"] as? [[String: Any]])
    }

    /// Two runs of host `nuc` 2 hours and 5 minutes ago: CPU 20 then 97 %, and the trading check
    /// 42 then 3 trades, and a check with a hostile name.
    static func storeRuns(_ connection: PostgresConnection) async throws {
        for (minutesAgo, cpu, trades) in [(120.0, 20.0, 42.0), (5.0, 97.0, 3.0)] {
            try await HealthStore.store(HealthRun(
                host: "nuc", takenAt: Date().addingTimeInterval(-minutesAgo * 60), durationMs: 5, databaseMs: 1,
                samples: [
                    HealthSample(.system, "host", "cpu.usage_percent", value: cpu, unit: "percent"),
                    HealthSample(.system, "/", "disk.used_percent", value: 50, unit: "percent"),
                    HealthSample(.check, "trades-24h", "check.value", value: trades, unit: "rows"),
                    HealthSample(.check, hostile, "check.value", value: 7, unit: nil),
                    HealthSample(.service, "nginx.service", "systemd.active", value: nil, status: .failed, message: "unit \(hostile) inactive"),
                ]
            ), jobID: nil, on: connection)
        }
    }

    @Test func listShowsTheNewestValuesByCategoryColouredByThresholdWithLinksToCharts() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await Self.storeRuns(connection)
            try await DashboardFixture.test(harness) { client in
                let metrics = try #require(try await Self.json(client, "/api/health")["metrics"] as? [[String: Any]])
                // Categories in order (system, service, check), then subject, metric, host.
                #expect(metrics.map { "\($0["category"]!) \($0["subject"]!) \($0["metric"]!)" } == [
                    "system / disk.used_percent", "system host cpu.usage_percent", "service nginx.service systemd.active",
                    "check \(Self.hostile) check.value", "check trades-24h check.value",
                ])
                #expect(metrics.map { $0["level"] as? String } == ["ok", "critical", "warning", "ok", "warning"])
                #expect(metrics.map { ($0["value"] as? NSNumber)?.doubleValue } == [50, 97, nil, 7, 3])
                #expect(metrics[2]["message"] as? String == "unit \(Self.hostile) inactive")

                let page = try await Self.page(client, "/health")
                #expect(page.contains(DashboardPagesTests.navigation))
                #expect(page.contains("<h2>system</h2>") && page.contains("<h2>service</h2>") && page.contains("<h2>check</h2>"))
                #expect(page.contains(#"<tr class="critical"><td>host</td><td><a href="/health?metric=cpu.usage_percent&amp;subject=host&amp;host=nuc&amp;range=24h">cpu.usage_percent</a></td><td>nuc</td><td class="value">97.0 %</td>"#))
                #expect(page.contains(#"<tr class="warning"><td>trades-24h</td><td><a href="/health?metric=check.value&amp;subject=trades-24h&amp;host=nuc&amp;range=24h">check.value</a></td><td>nuc</td><td class="value">3</td>"#))
                #expect(page.contains("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"))
                #expect(page.contains("subject=%3Cscript%3Ealert%281%29%3C%2Fscript%3E&amp;host=nuc"))
                #expect(page.contains("failed: unit &lt;script&gt;alert(1)&lt;/script&gt; inactive"))
                #expect(!page.contains("<script"))
            }
        }
    }

    @Test func seriesTheNewestRunNoLongerMeasuresAreListedUnjudged() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await HealthStore.store(HealthRun(host: "nuc", takenAt: Date().addingTimeInterval(-3 * 3600), durationMs: 1, databaseMs: 1, samples: [
                HealthSample(.postgres, "app/public.gone", "pg.table.dead_tuples", value: 12345, unit: "rows"),
                HealthSample(.check, "trades-old", "check.value", value: 0, unit: "rows"),
            ]), jobID: nil, on: connection)
            try await Self.storeRuns(connection)
            try await HealthStore.store(HealthRun(host: "other", takenAt: Date().addingTimeInterval(-600), durationMs: 1, databaseMs: 1, samples: [
                HealthSample(.system, "host", "cpu.usage_percent", value: 12, unit: "percent"),
            ]), jobID: nil, on: connection)
            try await DashboardFixture.test(harness) { client in
                let metrics = try #require(try await Self.json(client, "/api/health")["metrics"] as? [[String: Any]])
                #expect(metrics.count == 8)
                let gone = try #require(metrics.first { $0["subject"] as? String == "app/public.gone" })
                #expect(gone["current"] as? Bool == false && gone["level"] as? String == "unknown" && Self.number(gone["value"]) == 12345)
                // 0 trades would be critical, but it is three hours old and no longer measured.
                let old = try #require(metrics.first { $0["subject"] as? String == "trades-old" })
                #expect(old["current"] as? Bool == false && old["level"] as? String == "unknown")
                #expect(metrics.filter { $0["current"] as? Bool == true }.count == 6)
                #expect(metrics.first { $0["host"] as? String == "other" }?["level"] as? String == "ok")

                let page = try await Self.page(client, "/health")
                #expect(page.contains(#"<tr class="unknown"><td>app/public.gone</td><td><a href="/health?metric=pg.table.dead_tuples&amp;subject=app%2Fpublic.gone&amp;host=nuc&amp;range=24h">pg.table.dead_tuples</a></td><td>nuc</td><td class="value">12345</td><td>3.0 h ago, no longer sampled</td>"#))
                // Its chart still draws.
                let chart = try await Self.chart(client, "metric=pg.table.dead_tuples&subject=app%2Fpublic.gone&host=nuc")
                #expect(try Self.points(chart).map { Self.number($0["avg"]) } == [12345])
            }
        }
    }

    @Test func aChartDrawsTheSamplesAndTheThresholdLinesThatApply() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await Self.storeRuns(connection)
            try await DashboardFixture.test(harness) { client in
                // A custom SQL check with its configured rule (below: warning 10, critical 1).
                let trades = try await Self.chart(client, "metric=check.value&subject=trades-24h")
                #expect(trades["range"] as? String == "24h")
                let thresholds = try #require(trades["thresholds"] as? [String: Any])
                #expect(Self.number(thresholds["warning"]) == 10 && Self.number(thresholds["critical"]) == 1 && thresholds["below"] as? Bool == true)
                #expect((trades["history"] as? [String: Any])?["source"] as? String == "raw")
                #expect(try Self.points(trades).map { ($0["avg"] as? NSNumber)?.doubleValue } == [42, 3])
                #expect(try Self.points(trades).map { ($0["count"] as? NSNumber)?.intValue } == [1, 1])

                let page = try await Self.page(client, "/health?metric=check.value&subject=trades-24h")
                #expect(page.contains("<svg class=\"chart\""))
                #expect(page.contains("<line class=\"level warning\"") && page.contains("<line class=\"level critical\""))
                #expect(page.contains(">warning 10</text>") && page.contains(">critical 1</text>"))
                #expect(page.contains("<text class=\"max\"") && page.contains(">42</text>"))
                #expect(page.contains("<text class=\"min\"") && page.contains(">1</text>"))  // the critical level widens the scale
                #expect(page.components(separatedBy: "<circle class=\"dot s0\"").count - 1 == 2)
                #expect(page.contains("<polyline class=\"line s0\""))
                #expect(page.contains("<text class=\"time\""))
                #expect(page.contains("<dt>thresholds</dt><dd>warning below 10, critical below 1</dd>"))
                #expect(page.contains("<dt>latest</dt><dd>3</dd><dt>min</dt><dd>3</dd><dt>average</dt><dd>22.50</dd><dt>max</dt><dd>42</dd>"))
                #expect(page.contains("<dd>2 raw samples in 2 points</dd>"))
                #expect(page.contains("<strong>24h</strong> <a href=\"/health?metric=check.value&amp;subject=trades-24h&amp;host=nuc&amp;range=7d\">7d</a>"))

                // A system metric with the default rule (warning 80, critical 95), named by host.
                let cpu = try await Self.page(client, "/health?metric=cpu.usage_percent&subject=host&host=nuc&range=7d")
                #expect(cpu.contains(">warning 80.0 %</text>") && cpu.contains(">critical 95.0 %</text>"))
                #expect(cpu.contains("<dt>max</dt><dd>97.0 %</dd>"))
                #expect(cpu.contains("<strong>7d</strong>"))

                // No rule applies (the trading rule's subject pattern does not match, check.value has
                // no default): no lines.
                let other = "metric=check.value&subject=\(Self.encoded(Self.hostile))"
                #expect(try await Self.chart(client, other)["thresholds"] == nil)
                let otherPage = try await Self.page(client, "/health?" + other)
                #expect(!otherPage.contains("<line class=\"level"))
                #expect(otherPage.contains("<dt>thresholds</dt><dd>none</dd>"))
            }
        }
    }

    @Test func rangesPickRawSamplesOrDailyRollupsAndStaySmall() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            // A week of 5-minute samples of one metric (2016), and for another, two rolled-up
            // days (100 and 20 days ago) and one raw sample now.
            try await connection.query(
                """
                WITH runs AS (
                    INSERT INTO orchestrator.health_runs (host, taken_at, duration_ms)
                    SELECT 'nuc', now() - interval '1 minute' - i * interval '5 minutes', 1 FROM generate_series(0, 2015) i
                    RETURNING id, host, taken_at
                )
                INSERT INTO orchestrator.health_samples (run_id, host, taken_at, category, subject, metric, value)
                SELECT id, host, taken_at, 'system', 'host', 'load.1m', (id % 7)::float8 FROM runs
                """
            )
            try await connection.query(
                """
                INSERT INTO orchestrator.health_daily (host, day, category, subject, metric, unit, min, avg, max, count, failed)
                VALUES ('nuc', (now() AT TIME ZONE 'UTC')::date - 100, 'postgres', 'trading', 'pg.size_bytes', 'bytes', 1, 2, 3, 288, 0),
                       ('nuc', (now() AT TIME ZONE 'UTC')::date - 20, 'postgres', 'trading', 'pg.size_bytes', 'bytes', 10, 20, 30, 288, 2)
                """
            )
            try await HealthStore.store(HealthRun(host: "nuc", takenAt: Date().addingTimeInterval(-30), durationMs: 1, databaseMs: 1, samples: [
                HealthSample(.postgres, "trading", "pg.size_bytes", value: 40, unit: "bytes"),
            ]), jobID: nil, on: connection)
            try await DashboardFixture.test(harness) { client in
                let size = "metric=pg.size_bytes&subject=trading&host=nuc&range="
                for (range, source, averages) in [("24h", "raw", [40.0]), ("7d", "raw", [40]), ("30d", "daily", [20, 40]), ("1y", "daily", [2, 20, 40])] {
                    let chart = try await Self.chart(client, size + range)
                    #expect((chart["history"] as? [String: Any])?["source"] as? String == source, "\(range)")
                    #expect(try Self.points(chart).map { ($0["avg"] as? NSNumber)?.doubleValue } == averages, "\(range)")
                }
                let year = try Self.points(try await Self.chart(client, size + "1y"))
                #expect(Self.number(year.first?["min"]) == 1 && Self.number(year.first?["max"]) == 3 && Self.number(year.first?["count"]) == 288)
                #expect(Self.number(year[1]["failed"]) == 2)
                let yearPage = try await Self.page(client, "/health?" + size + "1y")
                #expect(yearPage.contains("<polygon class=\"band s0\""))  // min–max of each day
                #expect(yearPage.contains("<dd>daily rollups: 3 days, 577 samples, 2 failed</dd>"))
                #expect(yearPage.contains("<dt>min</dt><dd>1 B</dd>") && yearPage.contains("<dt>max</dt><dd>40 B</dd>"))

                // 2016 raw samples fold into at most 480 points and keep every sample counted.
                let load = "metric=load.1m&subject=host&host=nuc&range="
                let week = try Self.points(try await Self.chart(client, load + "7d"))
                #expect(week.count <= HealthView.maximumPoints && week.count >= 400)
                #expect(week.reduce(0) { $0 + (($1["count"] as? NSNumber)?.intValue ?? 0) } == 2016)
                #expect(week.allSatisfy { (($0["min"] as? NSNumber)?.doubleValue ?? -1) <= (($0["max"] as? NSNumber)?.doubleValue ?? -2) })
                let day = try Self.points(try await Self.chart(client, load + "24h"))
                #expect(day.count == 288 && day.allSatisfy { ($0["count"] as? NSNumber)?.intValue == 1 })
                let month = try Self.points(try await Self.chart(client, load + "30d"))
                #expect((8...9).contains(month.count))
                #expect(month.reduce(0) { $0 + (($1["count"] as? NSNumber)?.intValue ?? 0) } == 2016)
                for range in ["24h", "7d", "30d", "1y"] {
                    try await client.execute(uri: "/health?" + load + range, method: .get) { response in
                        #expect(response.status == .ok)
                        #expect(response.body.readableBytes < 200_000, "\(range): \(response.body.readableBytes) bytes")
                        #expect(response.text.contains("<svg class=\"chart\""))
                    }
                }
            }
        }
    }

    @Test func theLineBreaksWhereNothingWasMeasured() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            // Every 10 minutes for half an hour, nine hours of silence, then again.
            for minutesAgo in [600.0, 590, 580, 30, 20, 10] {
                try await HealthStore.store(HealthRun(host: "nuc", takenAt: Date().addingTimeInterval(-minutesAgo * 60), durationMs: 1, databaseMs: 1, samples: [
                    HealthSample(.postgres, "trading", "pg.tps", value: minutesAgo, unit: "per_second"),
                ]), jobID: nil, on: connection)
            }
            try await DashboardFixture.test(harness) { client in
                let page = try await Self.page(client, "/health?metric=pg.tps&subject=trading")
                #expect(page.components(separatedBy: "<polyline class=\"line s0\"").count - 1 == 2)
                #expect(page.components(separatedBy: "<circle class=\"dot s0\"").count - 1 == 6)
                #expect(page.contains("<dt>latest</dt><dd>10.0/s</dd>"))
            }
        }
    }

    @Test func invalidParametersAreRefusedBeforeAnyQuery() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            try await DashboardFixture.test(harness) { client in
                let refused = [
                    "?metric=cpu.usage_percent&subject=host&range=2h", "?metric=cpu.usage_percent&subject=host&range=\(Self.encoded("24h'; --"))",
                    "?metric=CPU&subject=host", "?metric=\(Self.encoded(Self.hostile))&subject=host", "?metric=cpu..usage&subject=host",
                    "?metric=" + String(repeating: "a", count: 101) + "&subject=host", "?metric=cpu.usage_percent",
                    "?metric=cpu.usage_percent&subject=a%00b", "?metric=cpu.usage_percent&subject=" + String(repeating: "x", count: 1025),
                    "?metric=cpu.usage_percent&subject=host&host=" + String(repeating: "h", count: 256), "?subject=host", "?range=7d", "?host=nuc",
                ]
                for path in ["/health", "/api/health"] {
                    for query in refused {
                        try await client.execute(uri: path + query, method: .get) { response in
                            #expect(response.status == .badRequest, "\(path)\(query.prefix(60))")
                            #expect(!response.text.contains("<script"))
                            #expect(!response.text.contains("xxxxxxxx"))
                        }
                    }
                }
            }
        }
    }

    @Test func hostileSubjectsAreOnlyEverText() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await Self.storeRuns(connection)
            try await DashboardFixture.test(harness) { client in
                let query = "metric=check.value&subject=\(Self.encoded(Self.hostile))"
                let chart = try await Self.chart(client, query)
                #expect(try Self.points(chart).map { ($0["avg"] as? NSNumber)?.doubleValue } == [7, 7])
                #expect((chart["history"] as? [String: Any]).flatMap { $0["key"] as? [String: Any] }?["subject"] as? String == Self.hostile)
                let page = try await Self.page(client, "/health?" + query)
                #expect(!page.contains("<script"))
                #expect(page.contains("<p class=\"meta\">&lt;script&gt;alert(1)&lt;/script&gt; @ nuc"))
                #expect(page.contains("<title>check.value &lt;script&gt;alert(1)&lt;/script&gt; on nuc</title>"))
                // An unknown host or subject is an empty chart, not an error; the value is text.
                let unknown = try await Self.page(client, "/health?metric=check.value&subject=\(Self.encoded("\"><img src=x>"))&host=\(Self.encoded("é<b>"))")
                #expect(unknown.contains("No samples of this metric in this range."))
                #expect(unknown.contains("&quot;&gt;&lt;img src=x&gt; @ é&lt;b&gt;"))
                #expect(!unknown.contains("<img") && !unknown.contains("<b>"))
            }
        }
    }

    @Test func anEmptyDatabaseSaysWhereSamplesComeFrom() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            try await DashboardFixture.test(harness) { client in
                #expect((try await Self.json(client, "/api/health")["metrics"] as? [Any])?.isEmpty == true)
                let page = try await Self.page(client, "/health")
                #expect(page.contains("No health samples yet. The <code>health</code> job records them"))
                let chart = try await Self.json(client, "/api/health?metric=cpu.usage_percent&subject=host")
                #expect(chart["chart"] == nil || chart["chart"] is NSNull)
                let chartPage = try await Self.page(client, "/health?metric=cpu.usage_percent&subject=host")
                #expect(chartPage.contains("No host samples this metric and subject now; name one with host=."))
                #expect(chartPage.contains("No samples of this metric in this range."))
            }
        }
    }
}
