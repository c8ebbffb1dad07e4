import Foundation
import Hummingbird
import HummingbirdTesting
@testable import OrchestratorWeb
import PostgresClient
@testable import Settings
import Testing

@Suite("Dashboard")
struct DashboardTests {
    static var configuration: Configuration {
        var configuration = Configuration()
        configuration.backups.profiles["daily"] = BackupProfile(databases: [], paths: ["/srv/app"])
        return configuration
    }

    @Test func healthzSaysWhetherTheDatabaseAnswers() async throws {
        try await Harness.with { harness in
            try await DashboardFixture.test(harness) { client in
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.text.contains(#""database":"ok""#))
                }
            }
            // The same dashboard against a database that does not exist.
            let gone = Harness(database: harness.database,
                           connector: .init(orchestrator: harness.database.configuration.withDatabase("no_such_database_here"), environment: [:]),
                           configuration: harness.configuration)
            try await DashboardFixture.test(gone) { client in
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.text.contains(#""database":"unreachable""#))
                }
                try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.text.contains("orchestrator_database_up 0"))
                }
                try await client.execute(uri: "/api/overview", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                }
            }
        }
    }

    @Test func metricsCarryTheDatabasesFiguresAndParse() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            let text = try await DashboardFixture.test(harness) { client in
                try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                    return response.text
                }
            }
            // Series -> value; the registry writes values as doubles ("2.0") in no fixed order.
            var samples: [String: Double] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let space = try #require(line.lastIndex(of: " "))
                samples[String(line[..<space])] = Double(line[line.index(after: space)...])
            }
            let expected: [(String, Double)] = [
                ("orchestrator_database_up", 1),
                (#"orchestrator_queue_jobs{queue="default",state="queued"}"#, 2),
                (#"orchestrator_queue_jobs{queue="host:x",state="queued"}"#, 1),
                (#"orchestrator_jobs_finished_24h{kind="vacuum",state="failed"}"#, 1),
                (#"orchestrator_jobs_finished_24h{kind="vacuum",state="succeeded"}"#, 1),
                (#"orchestrator_job_runs_24h{kind="vacuum"}"#, 2),
                (#"orchestrator_job_run_duration_avg_seconds{kind="vacuum"}"#, 3),
                (#"orchestrator_job_run_duration_max_seconds{kind="backup"}"#, 10),
                (#"orchestrator_backup_last_size_bytes{profile="daily"}"#, 123_456_789),
                (#"orchestrator_backup_last_duration_seconds{profile="daily"}"#, 90),
                (#"orchestrator_drill_restore_seconds{profile="daily"}"#, 42.5),
                (#"orchestrator_drill_backup_age_seconds{profile="daily"}"#, 5700),
                (#"orchestrator_alerts_open{severity="critical"}"#, 1),
                (#"orchestrator_alerts_open{severity="warning"}"#, 0),
                ("orchestrator_workers_alive", 0),
                (#"orchestrator_job_run_duration_seconds_bucket{kind="vacuum",le="1.0"}"#, 0),
                (#"orchestrator_job_run_duration_seconds_bucket{kind="vacuum",le="5.0"}"#, 2),
                (#"orchestrator_job_run_duration_seconds_bucket{kind="vacuum",le="+Inf"}"#, 2),
                (#"orchestrator_job_run_duration_seconds_sum{kind="vacuum"}"#, 6),
                (#"orchestrator_job_run_duration_seconds_count{kind="vacuum"}"#, 2),
                (#"orchestrator_job_run_duration_seconds_bucket{kind="backup",le="5.0"}"#, 0),
                (#"orchestrator_job_run_duration_seconds_bucket{kind="backup",le="15.0"}"#, 1),
                (#"orchestrator_job_run_duration_seconds_bucket{kind="backup",le="14400.0"}"#, 1),
                (#"orchestrator_health_value{metric="cpu.usage_percent",subject="host",host="nuc"}"#, 97),
                (#"orchestrator_health_value{metric="disk.used_percent",subject="/var/\"quoted\"\\dir\nnext",host="nuc"}"#, 91),
            ]
            for (series, value) in expected {
                #expect(samples[series] == value, "\(series)")
            }
            let queuedAge = try #require(samples["orchestrator_queue_oldest_queued_age_seconds"])
            #expect((590...700).contains(queuedAge))
            let backupAt = try #require(samples[#"orchestrator_backup_last_success_timestamp_seconds{profile="daily"}"#])
            #expect(abs(Date().timeIntervalSince1970 - 7200 - backupAt) < 120)
            try await PrometheusParser.check(text, families: 18)
        }
    }

    @Test func overviewAndItsJSONShowTheDatabasesFigures() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            try await DashboardFixture.test(harness) { client in
                let json = try await client.execute(uri: "/api/overview", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "application/json")
                    return try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
                }
                let queue = try #require(json["queue"] as? [String: Any])
                #expect((queue["jobsByState"] as? [String: Int])?["queued"] == 3)
                let tiles = try #require(json["tiles"] as? [[String: Any]])
                #expect(tiles.count == 4)
                let cpu = try #require(tiles.first { $0["metric"] as? String == "cpu.usage_percent" })
                #expect(cpu["level"] as? String == "critical")  // 97 % is above the default critical level (95)
                #expect((cpu["history"] as? [Any])?.count == 48)
                #expect(tiles.first { $0["subject"] as? String == "/" }?["level"] as? String == "ok")
                #expect(tiles.first { ($0["subject"] as? String)?.hasPrefix("/var/") == true }?["level"] as? String == "warning")
                let backups = try #require(json["backups"] as? [[String: Any]])
                let summary = try #require(backups.first?["summary"] as? [String: Any])
                #expect(summary["verifiedBytes"] as? Int == 123_456_789)
                #expect(summary["drillRestoreSeconds"] as? Double == 42.5)
                #expect((json["alert_counts"] as? [String: Any]).flatMap { $0["bySeverity"] as? [String: Int] } == ["critical": 1, "warning": 0])
                #expect((json["failures"] as? [[String: Any]])?.first?["target"] as? String == DashboardFixture.hostile)

                try await client.execute(uri: "/", method: .get) { response in
                    #expect(response.status == .ok)
                    let page = response.text
                    #expect(page.contains("<polyline points=\""))
                    #expect(page.contains("tile critical"))
                    #expect(page.contains("117.7 MiB"))  // the verified backup's size
                    #expect(page.contains("1 critical"))
                    #expect(page.contains("3 problems") || page.contains("problems"))
                    #expect(page.contains("href=\"/static/style.css\""))
                    #expect(!page.contains("<script"))
                }
            }
        }
    }

    @Test func databaseTextIsEscapedEverywhereOnThePage() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            try await DashboardFixture.test(harness) { client in
                try await client.execute(uri: "/", method: .get) { response in
                    let page = response.text
                    #expect(!page.contains(DashboardFixture.hostile))
                    #expect(!page.contains("<script"))
                    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
                    #expect(page.contains("vacuum \(escaped) failed: boom \(escaped)"))  // job target and error
                    #expect(page.contains("disk \(escaped) is full"))  // alert summary
                    #expect(page.contains("&quot;quoted&quot;"))  // a health subject
                }
            }
        }
    }

    @Test func theTemplatesInsertNothingUnescaped() {
        for text in [OverviewTemplate.text, JobsPage.text, JobDetailPage.text, BackupsPage.text, NotFoundPage.text, HealthPage.text,
                     HealthChartPage.text, MaintenancePage.text, LineChart.template] {
            #expect(!text.contains("{{{") && !text.contains("{{&"))
        }
    }

    @Test func aTokenGuardsEveryPathButTheLoginForm() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            try await DashboardFixture.test(harness, token: DashboardFixture.token) { client in
                for path in ["/", "/metrics", "/api/overview", "/healthz", "/jobs", "/api/jobs", "/backups", "/api/backups", "/health", "/api/health",
                             "/maintenance", "/api/maintenance"] {
                    try await client.execute(uri: path, method: .get) { response in
                        #expect(response.status == .unauthorized, "\(path)")
                        #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                    }
                    try await client.execute(uri: path, method: .get, headers: DashboardFixture.bearer("wrong-token-wrong-token")) { response in
                        #expect(response.status == .unauthorized, "\(path)")
                    }
                    try await client.execute(uri: path, method: .get, headers: DashboardFixture.bearer(DashboardFixture.token)) { response in
                        #expect(response.status == .ok, "\(path)")
                    }
                }
                // A token that only starts like the right one, and the right one in a cookie, are refused.
                try await client.execute(uri: "/metrics", method: .get, headers: DashboardFixture.bearer(String(DashboardFixture.token.dropLast()))) { response in
                    #expect(response.status == .unauthorized)
                }
                try await client.execute(uri: "/metrics", method: .get, headers: [.cookie: "orchestrator_session=\(DashboardFixture.token)"]) { response in
                    #expect(response.status == .unauthorized)
                }
                // A browser is sent to the form, which is open, like its stylesheet.
                try await client.execute(uri: "/", method: .get, headers: [.accept: "text/html,application/xhtml+xml"]) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/login")
                }
                try await client.execute(uri: "/login", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.text.contains("<form class=\"login\" method=\"post\" action=\"/login\">"))
                }
                try await client.execute(uri: "/static/style.css", method: .get) { response in
                    #expect(response.status == .ok)
                }
                let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                try await client.execute(uri: "/login", method: .post, headers: form, body: ByteBuffer(string: "token=nope")) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.setCookie] == nil)
                }
                let cookie = try await client.execute(uri: "/login", method: .post, headers: form,
                                                      body: ByteBuffer(string: "token=\(DashboardFixture.token)")) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/")
                    let setCookie = try #require(response.headers[.setCookie])
                    #expect(setCookie.contains("HttpOnly"))
                    #expect(setCookie.contains("SameSite=Strict"))
                    #expect(!setCookie.contains(DashboardFixture.token))
                    return String(try #require(setCookie.split(separator: ";").first))
                }
                try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie, .accept: "text/html"]) { response in
                    #expect(response.status == .ok)
                    #expect(response.text.contains("<h1>orchestrator</h1>"))
                }
                try await client.execute(uri: "/login", method: .post, headers: form, body: ByteBuffer(repeating: UInt8(ascii: "a"), count: 100_000)) { response in
                    #expect(response.status != .seeOther)
                    #expect(response.headers[.setCookie] == nil)
                }
            }
        }
    }

    @Test func everyResponseCarriesTheSecurityHeaders() async throws {
        try await Harness.with { harness in
            try await DashboardFixture.test(harness, token: DashboardFixture.token) { client in
                let bearer = DashboardFixture.bearer(DashboardFixture.token)
                let requests: [(String, HTTPRequest.Method, HTTPFields)] = [
                    ("/", .get, bearer), ("/", .get, [:]), ("/metrics", .get, bearer), ("/healthz", .get, bearer), ("/api/overview", .get, bearer),
                    ("/static/style.css", .get, [:]), ("/login", .get, [:]), ("/no/such/page", .get, bearer), ("/", .delete, bearer), ("/", .head, bearer),
                    ("/jobs", .get, bearer), ("/jobs", .get, [:]), ("/api/jobs", .get, bearer), ("/jobs/1", .get, bearer), ("/api/jobs/1", .get, bearer),
                    ("/jobs?state=bogus", .get, bearer), ("/backups", .get, bearer), ("/api/backups", .get, bearer), ("/jobs", .post, bearer),
                ]
                for (path, method, headers) in requests {
                    try await client.execute(uri: path, method: method, headers: headers) { response in
                        #expect(response.headers[.contentSecurityPolicy] ==
                                "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                                "\(method) \(path)")
                        #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(method) \(path)")
                        #expect(response.headers[HTTPFields.Element.Name("Referrer-Policy")!] == "no-referrer", "\(method) \(path)")
                    }
                }
            }
        }
    }

    @Test func onlyReadsAreRouted() async throws {
        try await Harness.with { harness in
            try await DashboardFixture.test(harness) { client in
                for (path, method) in [("/", HTTPRequest.Method.post), ("/", .delete), ("/metrics", .put), ("/api/overview", .patch), ("/healthz", .options),
                                       ("/jobs", .post), ("/jobs/1", .delete), ("/api/jobs", .put), ("/backups", .post),
                                       ("/alerts", .post), ("/api/alerts", .delete), ("/jobs/1/retry/x", .post), ("/api/jobs/1/retry", .post)] {
                    try await client.execute(uri: path, method: method) { response in
                        #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                        #expect(response.headers[.allow] == "GET, HEAD")
                    }
                }
                // The actions take POST only; GET never writes.
                for (path, method) in [("/jobs/1/retry", HTTPRequest.Method.get), ("/jobs/1/cancel", .head), ("/jobs/1/cancel", .delete),
                                       ("/backups/daily/backup", .put), ("/backups/daily/drill", .get)] {
                    try await client.execute(uri: path, method: method) { response in
                        #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                        #expect(response.headers[.allow] == "POST")
                    }
                }
                try await client.execute(uri: "/", method: .head) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    @Test func hostileQueryStringsDoNotBreakAPage() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            try await DashboardFixture.test(harness) { client in
                let queries = [
                    "?q=%3Cscript%3Ealert(1)%3C/script%3E", "?<script>=1", "?a=%00%ff%fe", "?'%20OR%201=1--", "?" + String(repeating: "x=1&", count: 2000),
                    "?a[]=1&a[]=2", "?%", "?limit=-1&since=;DROP%20TABLE%20orchestrator.jobs",
                ]
                for path in ["/", "/api/overview", "/metrics", "/healthz"] {
                    for query in queries {
                        try await client.execute(uri: path + query, method: .get) { response in
                            #expect(response.status == .ok, "\(path)\(query.prefix(40))")
                            if path == "/" {
                                #expect(!response.text.contains("<script"), "\(path)\(query.prefix(40))")
                            } else if path == "/api/overview" {
                                // JSON, not markup: served as application/json under nosniff, and it parses.
                                #expect((try? JSONSerialization.jsonObject(with: Data(response.text.utf8))) != nil)
                            }
                        }
                    }
                }
            }
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs", on: connection) == 6)
        }
    }
}
