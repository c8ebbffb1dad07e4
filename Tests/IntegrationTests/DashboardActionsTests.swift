import Foundation
import Hummingbird
import HummingbirdTesting
@testable import OrchestratorWeb
import PostgresClient
import Testing

/// The dashboard's write actions: retry, cancel, enqueue a backup or a drill. Without the token
/// nothing changes (loopback or not); with it the job really changes and `web_actions` says
/// who did it and when. Jobs from `DashboardFixture.populate`: 1 failed, 2 and 3 succeeded,
/// 4–6 queued.
@Suite("Dashboard actions")
struct DashboardActionsTests {
    static let actions = ["/jobs/1/retry", "/jobs/4/cancel", "/backups/daily/backup", "/backups/daily/drill"]
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    static var session: AccessToken { AccessToken(DashboardFixture.token) }
    static var cookie: String { "\(AccessToken.cookieName)=\(session.sessionValue)" }

    /// Everything an action could change, as one text to compare before and after.
    static func snapshot(_ connection: PostgresConnection) async throws -> String {
        let row = try await connection.query(
            """
            SELECT (SELECT string_agg(concat_ws(':', id, state, run_at, max_attempts, finished_at, cancel_requested_at, enqueued_by), ',' ORDER BY id)
                    FROM orchestrator.jobs) AS jobs,
                   (SELECT count(*) FROM orchestrator.web_actions) AS actions
            """
        ).first!
        return "\(try row.decode("jobs", as: String.self)) / \(try row.decode("actions", as: Int.self))"
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
    }

    static func outcome(_ response: TestResponse) throws -> String? {
        try json(response)["outcome"] as? String
    }

    @Test func withoutAConfiguredTokenEveryActionIsRefusedAndSaysHowToConfigureOne() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            let before = try await Self.snapshot(connection)
            try await DashboardFixture.test(harness) { client in
                for path in Self.actions {
                    for headers in [HTTPFields(), DashboardFixture.bearer(DashboardFixture.token), [.cookie: Self.cookie, .contentType: "application/x-www-form-urlencoded"]] {
                        try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: "form_token=\(Self.session.formToken)")) { response in
                            #expect(response.status == .forbidden, "\(path)")
                            #expect(response.text.contains("web.token_env"), "\(path)")
                            #expect(response.text.contains("token_file"), "\(path)")
                        }
                    }
                }
                // The pages offer no form, and say why.
                try await client.execute(uri: "/jobs/1", method: .get) { response in
                    #expect(!response.text.contains("<form method=\"post\""))
                    #expect(response.text.contains("Retrying and cancelling from here need the dashboard's token"))
                }
                try await client.execute(uri: "/backups", method: .get) { response in
                    #expect(!response.text.contains("<form method=\"post\""))
                    #expect(response.text.contains("needs the dashboard's token"))
                }
            }
            #expect(try await Self.snapshot(connection) == before)
        }
    }

    @Test func withATokenEveryActionNeedsItAndACrossSiteFormIsRefused() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            let before = try await Self.snapshot(connection)
            try await DashboardFixture.test(harness, token: DashboardFixture.token) { client in
                let goodForm = ByteBuffer(string: "form_token=\(Self.session.formToken)")
                let attempts: [(String, HTTPFields, ByteBuffer, HTTPResponse.Status)] = [
                    ("nothing", [:], goodForm, .unauthorized),
                    ("a wrong bearer token", DashboardFixture.bearer("not-the-token-at-all-0000"), goodForm, .unauthorized),
                    ("a wrong cookie", [.cookie: "\(AccessToken.cookieName)=00ff", .contentType: "application/x-www-form-urlencoded"], goodForm, .unauthorized),
                    ("the cookie without the form token", [.cookie: Self.cookie, .contentType: "application/x-www-form-urlencoded"], ByteBuffer(), .forbidden),
                    ("the cookie with a wrong form token", [.cookie: Self.cookie, .contentType: "application/x-www-form-urlencoded"],
                     ByteBuffer(string: "form_token=\(Self.session.sessionValue)"), .forbidden),
                    ("a cross-site post (Sec-Fetch-Site)", [.cookie: Self.cookie, .contentType: "application/x-www-form-urlencoded",
                                                           .secFetchSite: "cross-site"], goodForm, .forbidden),
                    ("a cross-site post (Origin)", [.cookie: Self.cookie, .contentType: "application/x-www-form-urlencoded", .origin: "https://evil.example"],
                     goodForm, .forbidden),
                    ("an oversized form", [.cookie: Self.cookie, .contentType: "application/x-www-form-urlencoded"],
                     ByteBuffer(repeating: UInt8(ascii: "a"), count: 100_000), .contentTooLarge),
                ]
                for path in Self.actions {
                    for (what, headers, body, status) in attempts {
                        try await client.execute(uri: path, method: .post, headers: headers, body: body) { response in
                            #expect(response.status == status, "\(path) with \(what)")
                        }
                    }
                    // Reads never write: GET on an action is not a route.
                    try await client.execute(uri: path, method: .get, headers: DashboardFixture.bearer(DashboardFixture.token)) { response in
                        #expect(response.status == .methodNotAllowed, "GET \(path)")
                        #expect(response.headers[.allow] == "POST")
                    }
                }
            }
            #expect(try await Self.snapshot(connection) == before)
        }
    }

    @Test func aBearerTokenCancelsRetriesAndEnqueuesAndTheRecordSaysWhoAndWhen() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            let running: Int64 = try await connection.query(
                """
                INSERT INTO orchestrator.jobs (kind, state, queue, run_at, enqueued_by, started_at, attempts, lease_until, locked_by)
                VALUES ('noop', 'running', 'default', now(), 'tests', now(), 1, now() + interval '1 minute', 'worker-1') RETURNING id
                """
            ).first!.decode("id")
            let bearer = DashboardFixture.bearer(DashboardFixture.token)
            let started = Date()
            try await DashboardFixture.test(harness, token: DashboardFixture.token) { client in
                try await client.execute(uri: "/jobs/4/cancel", method: .post, headers: bearer) { response in
                    #expect(response.status == .ok)
                    let json = try Self.json(response)
                    #expect(json["outcome"] as? String == "cancelled before it ran")
                    #expect(json["actor"] as? String == "web (bearer)")
                    #expect(json["succeeded"] as? Bool == true)
                    #expect((json["job_id"] as? NSNumber)?.int64Value == 4)
                }
                try await client.execute(uri: "/jobs/\(running)/cancel", method: .post, headers: bearer) { response in
                    #expect(response.status == .accepted)
                    let outcome = try Self.outcome(response)
                    #expect(outcome == "cancel requested; its worker stops it within seconds")
                }
                try await client.execute(uri: "/jobs/1/retry", method: .post, headers: bearer) { response in
                    #expect(response.status == .ok)
                    let outcome = try Self.outcome(response)
                    #expect(outcome == "queued again")
                }
                let backup = try await client.execute(uri: "/backups/daily/backup", method: .post, headers: bearer) { response in
                    #expect(response.status == .created)
                    return try #require((try Self.json(response)["job_id"] as? NSNumber)?.int64Value)
                }
                let drill = try await client.execute(uri: "/backups/daily/drill", method: .post, headers: bearer) { response in
                    #expect(response.status == .created)
                    return try #require((try Self.json(response)["job_id"] as? NSNumber)?.int64Value)
                }
                // The job page lists what was done to the job.
                try await client.execute(uri: "/jobs/1", method: .get, headers: bearer) { response in
                    #expect(response.text.contains("<h2>Actions</h2>"))
                    #expect(response.text.contains("<td>web (bearer)</td><td>retry</td><td>queued again</td>"))
                }
                try await client.execute(uri: "/api/jobs/1", method: .get, headers: bearer) { response in
                    let actions = try #require(try Self.json(response)["actions"] as? [[String: Any]])
                    #expect(actions.map { $0["action"] as? String } == ["retry"])
                }

                let states: [String] = try await connection.query("SELECT state FROM orchestrator.jobs WHERE id IN (1, 4) ORDER BY id").rows.map { try $0.decode("state") }
                #expect(states == ["queued", "cancelled"])
                #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs WHERE id = $1 AND state = 'running' AND cancel_requested_at IS NOT NULL",
                                                [running], on: connection) == 1)
                let made = try await connection.query("SELECT kind, target, args::text AS args, enqueued_by FROM orchestrator.jobs WHERE id IN ($1, $2) ORDER BY id",
                                                      [backup, drill])
                #expect(try made.rows.map { try $0.decode("kind", as: String.self) } == ["backup", "restore-drill"])
                #expect(try made.rows.map { try $0.decode("target", as: String.self) } == ["daily", "latest"])
                #expect(try made.rows.last?.decode("args", as: String.self) == #"{"profile": "daily"}"#)
                #expect(try made.rows.allSatisfy { try $0.decode("enqueued_by", as: String.self) == "web (bearer)" })
            }
            let records = try await connection.query("SELECT actor, action, job_id, target, outcome, succeeded, at FROM orchestrator.web_actions ORDER BY id")
            #expect(try records.rows.map { try $0.decode("action", as: String.self) } == ["cancel", "cancel", "retry", "enqueue_backup", "enqueue_drill"])
            #expect(try records.rows.allSatisfy { try $0.decode("actor", as: String.self) == "web (bearer)" && $0.decode("succeeded", as: Bool.self) })
            #expect(try records.rows.map { try $0.decodeIfPresent("target", as: String.self) } == [nil, nil, nil, "daily", "daily"])
            for row in records.rows {
                let at: Date = try row.decode("at")
                #expect(at >= started.addingTimeInterval(-5) && at <= Date().addingTimeInterval(5))
            }
        }
    }

    @Test func theWrongStateIsAConflictWithItsCauseAndBadNamesAreRefused() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            let bearer = DashboardFixture.bearer(DashboardFixture.token)
            let before = try await Self.snapshot(connection)
            try await DashboardFixture.test(harness, token: DashboardFixture.token) { client in
                try await client.execute(uri: "/jobs/2/retry", method: .post, headers: bearer) { response in
                    #expect(response.status == .conflict)
                    let outcome = try Self.outcome(response)
                    #expect(outcome == "not retried: the job is succeeded; only a failed or cancelled job can be retried")
                }
                try await client.execute(uri: "/jobs/2/cancel", method: .post, headers: bearer) { response in
                    #expect(response.status == .conflict)
                    let outcome = try Self.outcome(response)
                    #expect(outcome == "not cancelled: the job already finished (succeeded)")
                }
                try await client.execute(uri: "/jobs/4/retry", method: .post, headers: bearer) { response in
                    #expect(response.status == .conflict)
                    #expect(response.text.contains("the job is queued"))
                }
                for id in ["0", "-3", "abc", "1%27%20OR%201=1", "99999999999999999999999", "%3Cscript%3E"] {
                    try await client.execute(uri: "/jobs/\(id)/cancel", method: .post, headers: bearer) { response in
                        #expect(response.status == .badRequest, "\(id)")
                        #expect(response.text.contains("invalid job id"))
                    }
                }
                try await client.execute(uri: "/jobs/99999999/retry", method: .post, headers: bearer) { response in
                    #expect(response.status == .notFound)
                    #expect(response.text.contains("no job 99999999"))
                }
                for profile in ["nightly", DashboardPagesTests.encoded(DashboardFixture.hostile), DashboardPagesTests.encoded(DashboardPagesTests.sqlLooking),
                                DashboardPagesTests.encoded("d\u{00e4}ily"), String(repeating: "p", count: 5000)] {
                    try await client.execute(uri: "/backups/\(profile)/backup", method: .post, headers: bearer) { response in
                        #expect(response.status == .notFound, "\(profile.prefix(40))")
                        #expect(response.text.contains("configured profiles: daily"))
                        #expect(!response.text.contains("<script"))
                        #expect(!response.text.contains("DROP"))
                    }
                }
            }
            // The refusals of existing jobs are recorded; nothing else changed.
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.web_actions WHERE NOT succeeded", on: connection) == 3)
            try await connection.query("DELETE FROM orchestrator.web_actions")
            #expect(try await Self.snapshot(connection) == before)
        }
    }

    @Test func aSameOriginFormPostGoesBackToTheJobPageWhichShowsTheOutcome() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            try await DashboardFixture.test(harness, token: DashboardFixture.token) { client in
                let browser: HTTPFields = [.cookie: Self.cookie, .contentType: "application/x-www-form-urlencoded", .secFetchSite: "same-origin"]
                let body = ByteBuffer(string: "form_token=\(Self.session.formToken)")
                // The pages carry the forms with the form token.
                try await client.execute(uri: "/jobs/1", method: .get, headers: [.cookie: Self.cookie]) { response in
                    #expect(response.text.contains(
                        "<form method=\"post\" action=\"/jobs/1/retry\"><input type=\"hidden\" name=\"form_token\" value=\"\(Self.session.formToken)\"><button type=\"submit\">Retry now</button></form>"))
                    #expect(!response.text.contains("/jobs/1/cancel"))
                }
                try await client.execute(uri: "/jobs/4", method: .get, headers: [.cookie: Self.cookie]) { response in
                    #expect(response.text.contains("<form method=\"post\" action=\"/jobs/4/cancel\">"))
                }
                try await client.execute(uri: "/jobs/2", method: .get, headers: [.cookie: Self.cookie]) { response in
                    #expect(!response.text.contains("<form method=\"post\""))
                }
                try await client.execute(uri: "/backups", method: .get, headers: [.cookie: Self.cookie]) { response in
                    #expect(response.text.contains("<form method=\"post\" action=\"/backups/daily/backup\">"))
                    #expect(response.text.contains("<form method=\"post\" action=\"/backups/daily/drill\">"))
                }

                try await client.execute(uri: "/jobs/1/retry", method: .post, headers: browser, body: body) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/jobs/1")
                }
                try await client.execute(uri: "/jobs/1", method: .get, headers: [.cookie: Self.cookie]) { response in
                    #expect(response.text.contains("<td>web (session)</td><td>retry</td><td>queued again</td>"))
                    #expect(response.text.contains("<form method=\"post\" action=\"/jobs/1/cancel\">"))  // queued now
                }
                let enqueued = try await client.execute(uri: "/backups/daily/backup", method: .post, headers: browser, body: body) { response in
                    #expect(response.status == .seeOther)
                    return try #require(response.headers[.location])
                }
                #expect(enqueued.hasPrefix("/jobs/"))
                // A refusal is shown at once, with the way back.
                try await client.execute(uri: "/jobs/2/retry", method: .post, headers: browser, body: body) { response in
                    #expect(response.status == .conflict)
                    #expect(response.text.contains("<p>not retried: the job is succeeded; only a failed or cancelled job can be retried</p>"))
                    #expect(response.text.contains("<a href=\"/jobs/2\">Back</a>"))
                }
            }
            let actors: [String] = try await connection.query("SELECT actor FROM orchestrator.web_actions ORDER BY id").rows.map { try $0.decode("actor") }
            #expect(actors == ["web (session)", "web (session)", "web (session)"])
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.jobs WHERE kind = 'backup' AND enqueued_by = 'web (session)'", on: connection) == 1)
        }
    }

    @Test func anUnreachableDatabaseIs503AndNotARefusal() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let gone = Harness(database: harness.database,
                               connector: .init(orchestrator: harness.database.configuration.withDatabase("no_such_database_here"), environment: [:]),
                               configuration: harness.configuration)
            try await DashboardFixture.test(gone, token: DashboardFixture.token) { client in
                for path in Self.actions {
                    try await client.execute(uri: path, method: .post, headers: DashboardFixture.bearer(DashboardFixture.token)) { response in
                        #expect(response.status == .serviceUnavailable, "\(path)")
                    }
                }
                try await client.execute(uri: "/alerts", method: .get, headers: DashboardFixture.bearer(DashboardFixture.token)) { response in
                    #expect(response.status == .serviceUnavailable)
                }
            }
        }
    }

    /// A browser's form post names its origin; only this dashboard's host (as the browser
    /// addressed it) passes, with either scheme (TLS may end at a proxy).
    @Test func aSessionPostPassesOnlyFromThisHostsOrigin() async throws {
        let token = Self.session
        func post(origin: String?, site: String?) -> Request {
            var head = HTTPRequest(method: .post, scheme: "http", authority: "nuc.example:8089", path: "/jobs/1/retry")
            head.headerFields[.cookie] = Self.cookie
            head.headerFields[.contentType] = "application/x-www-form-urlencoded"
            if let origin { head.headerFields[.origin] = origin }
            if let site { head.headerFields[.secFetchSite] = site }
            return Request(head: head, body: .init(buffer: ByteBuffer(string: "form_token=\(token.formToken)")))
        }
        for (origin, site) in [("http://nuc.example:8089", nil), ("https://nuc.example:8089", "same-origin"), (nil, "same-origin"), (nil, nil)] as [(String?, String?)] {
            let actor = try await ActionActor.authorize(post(origin: origin, site: site), client: "192.0.2.7", token: token)
            #expect(actor.name == "web (session) from 192.0.2.7", "\(origin ?? "-") \(site ?? "-")")
        }
        for (origin, site) in [("http://nuc.example", nil), ("http://evil.example:8089", nil), ("null", nil), ("http://nuc.example:8089.evil", nil),
                               ("http://nuc.example:8089", "same-site"), (nil, "cross-site"), (nil, "none")] as [(String?, String?)] {
            await #expect(throws: HTTPError.self, "\(origin ?? "-") \(site ?? "-")") {
                try await ActionActor.authorize(post(origin: origin, site: site), client: nil, token: token)
            }
        }
    }
}
