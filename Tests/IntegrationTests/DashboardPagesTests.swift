import Foundation
import Hummingbird
import HummingbirdTesting
@testable import OrchestratorWeb
import PostgresClient
import Testing

/// The Jobs and Backups pages and their JSON, over the rows `DashboardFixture.populate` writes:
/// jobs 1 (vacuum, hostile target, failed), 2 (vacuum app, succeeded), 3 (backup daily,
/// succeeded), 4–6 (noop, queued 10 minutes ago), and one verified backup with a passed drill.
@Suite("Dashboard pages")
struct DashboardPagesTests {
    static let sqlLooking = "'; DROP TABLE orchestrator.jobs; --"
    static let navigation = #"<nav class="site"><a href="/">Overview</a><a href="/jobs">Jobs</a><a href="/backups">Backups</a><a href="/health">Health</a><a href="/maintenance">Maintenance</a><a href="/alerts">Alerts</a></nav>"#

    static func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    }

    static func jobs(_ client: any TestClientProtocol, _ query: String) async throws -> [[String: Any]] {
        try await client.execute(uri: "/api/jobs" + query, method: .get) { response in
            #expect(response.status == .ok, "\(query)")
            let json = try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
            return try #require(json["jobs"] as? [[String: Any]])
        }
    }

    @Test func timesAreWrittenInUTCToTheSecond() {
        #expect(DisplayText.time(Date(timeIntervalSince1970: 1_764_460_800.75)) == "2025-11-30T00:00:00Z")
    }

    @Test func jobsPageAndItsJSONListRealRowsNewestFirst() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            let ids: [Int64] = try await connection.query("SELECT id FROM orchestrator.jobs ORDER BY id DESC").rows.map { try $0.decode("id") }
            try await DashboardFixture.test(harness) { client in
                let jobs = try await Self.jobs(client, "")
                #expect(jobs.map { ($0["id"] as? NSNumber)?.int64Value } == ids)
                #expect(jobs.map { $0["kind"] as? String } == ["noop", "noop", "noop", "backup", "vacuum", "vacuum"])
                let failed = try #require(jobs.last)
                #expect(failed["state"] as? String == "failed")
                #expect(failed["target"] as? String == DashboardFixture.hostile)
                #expect(failed["lastError"] as? String == "boom \(DashboardFixture.hostile)")

                try await client.execute(uri: "/jobs", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    let page = response.text
                    #expect(page.contains(Self.navigation))
                    for id in ids { #expect(page.contains("<a href=\"/jobs/\(id)\">\(id)</a>")) }
                    #expect(page.contains("<td>failed</td><td>1/"))
                    #expect(page.contains("boom &lt;script&gt;alert(1)&lt;/script&gt;"))
                    #expect(!page.contains("<script"))
                    #expect(page.contains("<td>60 min</td>"))  // the failed job ran for an hour
                    #expect(page.contains("<form class=\"filters\" method=\"get\" action=\"/jobs\">"))
                }
            }
        }
    }

    @Test func filtersNarrowTheListAndHostileValuesAreOnlyEverText() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            try await DashboardFixture.test(harness) { client in
                #expect(try await Self.jobs(client, "?state=failed").map { $0["target"] as? String } == [DashboardFixture.hostile])
                #expect(try await Self.jobs(client, "?kind=noop").count == 3)
                #expect(try await Self.jobs(client, "?kind=vacuum&state=succeeded").map { $0["target"] as? String } == ["app"])
                #expect(try await Self.jobs(client, "?target=daily").map { $0["kind"] as? String } == ["backup"])
                #expect(try await Self.jobs(client, "?target=\(Self.encoded(DashboardFixture.hostile))").map { $0["state"] as? String } == ["failed"])
                #expect(try await Self.jobs(client, "?target=\(Self.encoded(Self.sqlLooking))").isEmpty)
                #expect(try await Self.jobs(client, "?since=1h").map { $0["kind"] as? String } == ["noop", "noop", "noop"])
                #expect(try await Self.jobs(client, "?since=24h").count == 6)
                // Empty fields (an untouched form) filter nothing.
                #expect(try await Self.jobs(client, "?state=&kind=&target=&since=").count == 6)

                // Keyset pages: two, then the two before them.
                let first = try await client.execute(uri: "/api/jobs?limit=2", method: .get) { response in
                    try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
                }
                let firstIDs = try #require(first["jobs"] as? [[String: Any]]).compactMap { ($0["id"] as? NSNumber)?.int64Value }
                let next = try #require((first["next_before"] as? NSNumber)?.int64Value)
                #expect(firstIDs.count == 2 && next == firstIDs.last)
                let second = try await Self.jobs(client, "?limit=2&before=\(next)").compactMap { ($0["id"] as? NSNumber)?.int64Value }
                #expect(second.count == 2 && second.allSatisfy { $0 < next })

                try await client.execute(uri: "/jobs?target=\(Self.encoded(Self.sqlLooking))&state=failed", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.text.contains("No job matches."))
                    #expect(response.text.contains("value=\"&#39;; DROP TABLE orchestrator.jobs; --\""))
                    #expect(response.text.contains("<option value=\"failed\" selected>failed</option>"))
                }
                try await client.execute(uri: "/jobs?target=\(Self.encoded(DashboardFixture.hostile))&limit=1", method: .get) { response in
                    #expect(response.status == .ok)
                    let page = response.text
                    #expect(!page.contains("<script"))
                    #expect(page.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""))
                    // One row on a one-row page: the link to older jobs keeps the filter, percent-encoded.
                    #expect(page.contains("href=\"/jobs?target=%3Cscript%3Ealert%281%29%3C%2Fscript%3E&amp;limit=1&amp;before="))
                }
            }
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs", on: connection) == 6)
        }
    }

    @Test func invalidParametersAreRefusedAndUnknownIDsAreNotFound() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            try await DashboardFixture.test(harness) { client in
                let refused = [
                    "?state=bogus", "?state=\(Self.encoded(Self.sqlLooking))", "?since=2h", "?since=1h;DROP", "?kind=no_such_kind",
                    "?kind=\(Self.encoded(DashboardFixture.hostile))", "?limit=0", "?limit=201", "?limit=-1", "?limit=abc", "?before=0",
                    "?before=x", "?target=a%00b", "?target=" + String(repeating: "x", count: 2000),
                ]
                for path in ["/jobs", "/api/jobs"] {
                    for query in refused {
                        try await client.execute(uri: path + query, method: .get) { response in
                            #expect(response.status == .badRequest, "\(path)\(query.prefix(40))")
                            #expect(!response.text.contains("<script"))
                            #expect(!response.text.contains("DROP"))
                        }
                    }
                    // Unknown parameters and undecodable bytes are ignored.
                    for query in ["?a=%00%ff%fe", "?<script>=1", "?%", "?target=%ff%fe"] {
                        try await client.execute(uri: path + query, method: .get) { response in
                            #expect(response.status == .ok, "\(path)\(query)")
                        }
                    }
                }
                for path in ["/backups?limit=0", "/api/backups?limit=x"] {
                    try await client.execute(uri: path, method: .get) { response in
                        #expect(response.status == .badRequest, "\(path)")
                    }
                }
                for id in ["0", "-3", "abc", "99999999", "1%27%20OR%201=1", "99999999999999999999999", "%3Cscript%3E"] {
                    try await client.execute(uri: "/jobs/\(id)", method: .get) { response in
                        #expect(response.status == .notFound, "\(id)")
                        #expect(response.text.contains("This job does not exist."))
                        #expect(response.text.contains(Self.navigation))
                    }
                    try await client.execute(uri: "/api/jobs/\(id)", method: .get) { response in
                        #expect(response.status == .notFound, "\(id)")
                    }
                }
            }
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs", on: connection) == 6)
        }
    }

    @Test func aJobShowsEveryAttemptNewestFirstWithItsTextEscaped() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let id = try await HistoryFixtures(connection: connection)
                .job("sql", target: "app", state: "succeeded", runs: ["failed"], seconds: 3, error: "first\n\(DashboardFixture.hostile)")
            try await connection.query("UPDATE orchestrator.jobs SET args = $2::jsonb, attempts = 2 WHERE id = $1", [id, #"{"sql": "SELECT '<script>'", "n": 5}"#])
            // Closed runs cannot be changed: the second attempt is written closed, with its result and log tail.
            try await connection.query(
                """
                INSERT INTO orchestrator.job_runs (job_id, attempt, worker_id, host, pid, started_at, finished_at, status, result, log_tail)
                VALUES ($1, 2, 'w2', 'h2', 2, now() - interval '3 seconds', now(), 'succeeded', $3::jsonb, $2)
                """,
                [id, "line one\n\(DashboardFixture.hostile)\nline three", #"{"rows": 7, "note": "</pre><script>x</script>"}"#]
            )
            try await DashboardFixture.test(harness) { client in
                try await client.execute(uri: "/jobs/\(id)", method: .get) { response in
                    #expect(response.status == .ok)
                    let page = response.text
                    #expect(!page.contains("<script"))
                    #expect(page.contains(Self.navigation))
                    #expect(page.contains("<h1>Job \(id)</h1>"))
                    #expect(page.contains("<dt>enqueued by</dt><dd>tests</dd>"))
                    let second = try #require(page.range(of: "<h2>Attempt 2: succeeded</h2>"))
                    let first = try #require(page.range(of: "<h2>Attempt 1: failed</h2>"))
                    #expect(second.lowerBound < first.lowerBound)
                    #expect(page.contains("<pre>line one\n&lt;script&gt;alert(1)&lt;/script&gt;\nline three</pre>"))
                    #expect(page.contains("<pre class=\"error\">first\n&lt;script&gt;alert(1)&lt;/script&gt;</pre>"))
                    #expect(page.contains("&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;"))
                    #expect(page.contains("<pre>{\n  &quot;n&quot; : 5,\n  &quot;sql&quot; : &quot;SELECT "))  // pretty-printed, keys sorted
                    #expect(page.contains("<dt>took</dt><dd>60 min</dd>"))  // the job
                    #expect(page.contains("<dt>took</dt><dd>3 s</dd>"))  // each attempt
                }
                let json = try await client.execute(uri: "/api/jobs/\(id)", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "application/json")
                    return try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
                }
                let job = try #require(json["job"] as? [String: Any])
                #expect((job["args"] as? [String: Any])?["sql"] as? String == "SELECT '<script>'")
                let runs = try #require(json["runs"] as? [[String: Any]])
                #expect(runs.map { $0["attempt"] as? Int } == [2, 1])
                #expect(runs.first?["logTail"] as? String == "line one\n\(DashboardFixture.hostile)\nline three")
                #expect((runs.first?["result"] as? [String: Any])?["rows"] as? Int == 7)
                #expect(runs.last?["error"] as? String == "first\n\(DashboardFixture.hostile)")
            }
        }
    }

    @Test func backupsPageAndItsJSONShowTheCatalogAndDrills() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            try await connection.query(
                """
                INSERT INTO orchestrator.backups (profile, label, location, host, started_at, finished_at, bytes, file_count, manifest,
                                                  manifest_sha256, verified_at, verify_status, verify_error)
                VALUES ('daily', $1, '/b/b2', 'h', now() - interval '31 minutes', now() - interval '30 minutes', 2048, 1,
                        '{}', repeat('b', 64), now() - interval '5 minutes', 'failed', $2)
                """,
                [DashboardFixture.hostile, "digest mismatch \(DashboardFixture.hostile)\nsecond line"]
            )
            try await DashboardFixture.test(harness) { client in
                let json = try await client.execute(uri: "/api/backups", method: .get) { response in
                    #expect(response.status == .ok)
                    return try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
                }
                let profiles = try #require(json["profiles"] as? [[String: Any]])
                #expect(profiles.map { $0["profile"] as? String } == ["daily"])
                let backups = try #require(profiles.first?["backups"] as? [[String: Any]])
                #expect(backups.map { $0["label"] as? String } == [DashboardFixture.hostile, "b1"])
                #expect(backups.last?["bytes"] as? Int == 123_456_789)
                let drills = try #require(profiles.first?["drills"] as? [[String: Any]])
                #expect(drills.count == 1)
                #expect((drills.first?["restoreSeconds"] as? NSNumber)?.doubleValue == 42.5)
                #expect((drills.first?["backupAgeSeconds"] as? NSNumber)?.doubleValue == 5700)
                #expect(try await client.execute(uri: "/api/backups?limit=1", method: .get) { response in
                    let json = try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
                    return ((json["profiles"] as? [[String: Any]])?.first?["backups"] as? [Any])?.count
                } == 1)

                try await client.execute(uri: "/backups", method: .get) { response in
                    #expect(response.status == .ok)
                    let page = response.text
                    #expect(page.contains(Self.navigation))
                    #expect(page.contains("<h2>daily</h2>"))
                    #expect(!page.contains("<script"))
                    #expect(page.contains("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>logical</td>"))
                    #expect(page.contains("<td>117.7 MiB</td><td>90 s</td><td>passed</td>"))
                    #expect(page.contains("<td>2.0 KiB</td><td>60 s</td><td>failed: digest mismatch &lt;script&gt;alert(1)&lt;/script&gt;</td>"))
                    #expect(page.contains("passed 29 min ago, RTO 42 s, RPO 95 min"))
                }
            }
        }
    }

    @Test func everyPageCarriesTheNavigation() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            try await DashboardFixture.test(harness) { client in
                for path in ["/", "/jobs", "/backups", "/health", "/health?metric=cpu.usage_percent&subject=host", "/maintenance", "/alerts"] {
                    try await client.execute(uri: path, method: .get) { response in
                        #expect(response.status == .ok, "\(path)")
                        #expect(response.text.contains(Self.navigation), "\(path)")
                    }
                }
            }
        }
    }
}
