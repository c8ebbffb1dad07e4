import Foundation
@testable import Health
@testable import History
import PostgresClient
@testable import Settings
@testable import Support
import TestSupport
import Testing

/// HTTP endpoint checks against real local servers: answered, wrong status, redirect, refused,
/// silent; secrets in the query never stored; a down endpoint fires its default alert.
@Suite("Health HTTP checks")
struct HealthHTTPTests {
    private func sample(_ samples: [HealthSample], _ metric: String) throws -> HealthSample {
        try #require(samples.first { $0.metric == metric }, "no \(metric) in \(samples.map(\.metric))")
    }

    @Test func theExpectedStatusIsUpWithTheStatusAndAResponseTime() async throws {
        let server = try LocalHTTPServer(responses: [.init(status: 200, body: "fine")])
        defer { server.stop() }
        let samples = await HTTPProbe.sample("api", HTTPCheck(url: server.baseURL + "/healthz", timeoutMs: 2000))
        #expect(samples.map(\.metric) == ["http.up", "http.status", "http.response_ms"])
        #expect(samples.allSatisfy { $0.category == .service && $0.subject == "api" && $0.status == .ok })
        #expect(try sample(samples, "http.up").value == 1)
        #expect(try sample(samples, "http.up").details["url"] == .string(server.baseURL + "/healthz"))
        #expect(try sample(samples, "http.status").value == 200)
        let milliseconds = try #require(try sample(samples, "http.response_ms").value)
        #expect(milliseconds > 0 && milliseconds < 2000)
        let request = try #require(server.requests.first)
        #expect(request.method == "GET" && request.path == "/healthz" && request.body.isEmpty)
        #expect(request.headers["user-agent"]?.hasPrefix("orchestrator/") == true)
    }

    @Test func anUnexpectedStatusFailsWithTheStatusInTheReason() async throws {
        let server = try LocalHTTPServer(responses: [.init(status: 500, body: "boom")])
        defer { server.stop() }
        let samples = await HTTPProbe.sample("api", HTTPCheck(url: server.baseURL + "/", expectStatus: 200, timeoutMs: 2000))
        let up = try sample(samples, "http.up")
        #expect(up.value == 0 && up.status == .failed)
        #expect(up.message == "\(server.baseURL)/: answered HTTP 500, expected 200")
        #expect(up.details["status"] == .int(500))
        #expect(try sample(samples, "http.status").value == 500)
        #expect(try sample(samples, "http.response_ms").value != nil)

        // Another expected status is honoured: 204 is up when 204 is expected.
        let noContent = try LocalHTTPServer(responses: [.init(status: 204)])
        defer { noContent.stop() }
        let expected = await HTTPProbe.sample("api", HTTPCheck(url: noContent.baseURL + "/", expectStatus: 204, timeoutMs: 2000))
        #expect(try sample(expected, "http.up").value == 1)
    }

    @Test func aRedirectIsReportedNotFollowed() async throws {
        let target = try LocalHTTPServer(responses: [.init(status: 200)])
        defer { target.stop() }
        let server = try LocalHTTPServer(responses: [.init(status: 301, headers: ["Location": target.baseURL + "/elsewhere"])])
        defer { server.stop() }
        let samples = await HTTPProbe.sample("api", HTTPCheck(url: server.baseURL + "/old", timeoutMs: 2000))
        let up = try sample(samples, "http.up")
        #expect(up.status == .failed)
        #expect(up.message?.contains("answered HTTP 301, expected 200 (redirects are not followed") == true)
        #expect(target.requests.isEmpty)
    }

    @Test func aClosedPortIsAFailedSampleNotACrash() async throws {
        let port = try LocalSocketServer.closedPort()
        let samples = await HTTPProbe.sample("api", HTTPCheck(url: "http://127.0.0.1:\(port)/healthz", timeoutMs: 2000))
        #expect(samples.count == 1)
        let up = try sample(samples, "http.up")
        #expect(up.value == 0 && up.status == .failed)
        #expect(up.message?.hasPrefix("http://127.0.0.1:\(port)/healthz: ") == true)
        #expect(up.message?.contains("curl error 7") == true)
    }

    @Test func aServerThatDoesNotAnswerFailsWithinTheTimeout() async throws {
        let silent = try SilentSocketServer()
        defer { silent.stop() }
        let start = ContinuousClock.now
        let samples = await HTTPProbe.sample("slow", HTTPCheck(url: "http://127.0.0.1:\(silent.port)/", timeoutMs: 500))
        let elapsed = ContinuousClock.now - start
        let up = try sample(samples, "http.up")
        #expect(up.value == 0 && up.status == .failed)
        #expect(up.message == "http://127.0.0.1:\(silent.port)/: timed out after 500 ms")
        #expect(elapsed >= .milliseconds(450) && elapsed < .seconds(3), "took \(elapsed)")
    }

    @Test func aTokenInTheQueryIsNeverStoredOrShown() async throws {
        let token = "s3cr3t-Token-value"
        let server = try LocalHTTPServer(responses: [.init(status: 503)])
        defer { server.stop() }
        let samples = await HTTPProbe.sample("api", HTTPCheck(url: server.baseURL + "/status?key=\(token)#top", timeoutMs: 2000))
        // The endpoint got the whole URL; nothing recorded repeats the query.
        #expect(server.requests.first?.path == "/status?key=\(token)")
        let up = try sample(samples, "http.up")
        #expect(up.details["url"] == .string(server.baseURL + "/status?[redacted]"))
        let recorded = String(decoding: try JSONEncoder().encode(samples), as: UTF8.self)
        #expect(!recorded.contains(token) && !recorded.contains("key="))

        let port = try LocalSocketServer.closedPort()
        let refused = await HTTPProbe.sample("api", HTTPCheck(url: "http://127.0.0.1:\(port)/?token=\(token)", timeoutMs: 2000))
        #expect(refused[0].message?.contains(token) == false)
        #expect(refused[0].details["url"] == .string("http://127.0.0.1:\(port)/?[redacted]"))
    }

    @Test func theSamplerRunsEveryConfiguredEndpoint() async throws {
        let server = try LocalHTTPServer(responses: [.init(status: 200)])
        defer { server.stop() }
        let port = try LocalSocketServer.closedPort()
        let health = HealthSettings(http: [
            "good": HTTPCheck(url: server.baseURL + "/", timeoutMs: 2000),
            "gone": HTTPCheck(url: "http://127.0.0.1:\(port)/", timeoutMs: 2000),
        ], cpuIntervalMs: 100)
        try await HealthPostgresTests.withApp(health: health) { harness, _ in
            let run = await HealthPostgresTests.sampler(harness).sample(previous: [:])
            #expect(HealthPostgresTests.sample(run, "good", "http.up")?.value == 1)
            #expect(HealthPostgresTests.sample(run, "gone", "http.up")?.status == .failed)
            #expect(run.failed.map(\.subject) == ["gone"])
        }
    }
}

/// A down endpoint fires the default `http.up` threshold from the health job, end to end.
@Suite("Alerts for HTTP checks")
struct HealthHTTPAlertTests {
    @Test func theHealthJobFiresTheDefaultThresholdForADownEndpoint() async throws {
        let hook = try LocalHTTPServer(responses: [.init(status: 204)])
        defer { hook.stop() }
        let port = try LocalSocketServer.closedPort()
        let configuration = try Configuration.parse(yaml: """
            health:
              cpu_interval_ms: 100
              http:
                shop: {url: "http://127.0.0.1:\(port)/healthz", timeout_ms: 2000}
            alerts:
              channels:
                hook: {type: webhook, url: "\(hook.baseURL)/hook", attempts: 1}
            """)
        try await Harness.with(configuration: configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let id = try await harness.enqueue(kind: "health", on: connection)
            try await harness.worker(drain: true).run()
            #expect(try await harness.state(of: id, on: connection) == "succeeded")
            let host = HostInfo.hostName
            let stored = try #require(try await connection.query(
                "SELECT value, status, message FROM orchestrator.health_samples WHERE subject = 'shop' AND metric = 'http.up'").first)
            #expect(stored["value"] == "0" && stored["status"] == "failed")
            #expect(stored["message"]?.hasPrefix("http://127.0.0.1:\(port)/healthz: ") == true)
            let sent = try #require(hook.requests.compactMap(\.json).first { $0["alert"] as? String == "http.up:shop@\(host)" })
            #expect(sent["state"] as? String == "firing" && sent["severity"] as? String == "critical")
            #expect(try await harness.count(
                "SELECT count(*) AS n FROM orchestrator.open_alerts WHERE rule = 'http.up' AND subject = 'shop' AND severity = 'critical'",
                on: connection) == 1)
        }
    }
}
