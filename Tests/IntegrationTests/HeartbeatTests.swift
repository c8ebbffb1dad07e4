import Foundation
@testable import Kinds
import PostgresClient
@testable import Runtime
@testable import Settings
import TestSupport
import Testing

/// The dead man's switch: every `check-alerts` that ran to the end pings `alerts.heartbeat_url`;
/// a ping that fails leaves the check succeeded, says so in its result, and never shows the
/// URL's token.
@Suite("Heartbeat URL", .serialized)
struct HeartbeatTests {
    static let token = "0f6c2a1e-hc-token"

    private func runCheck(_ yaml: String, environment variable: (String, String)? = nil) async throws -> (state: String, result: String, log: String) {
        if let (name, value) = variable { setenv(name, value, 1) }
        defer { if let (name, _) = variable { unsetenv(name) } }
        let configuration = try Configuration.parse(yaml: yaml)
        return try await Harness.with(configuration: configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let job = try await harness.enqueue(kind: "check-alerts", on: connection)
            let log = CapturedLog()
            let worker = Worker(
                configuration: configuration,
                options: .init(settings: Harness.fastWorker, scheduler: SchedulerSettings(enabled: false), drain: true),
                connector: harness.connector, registry: .standard, logger: log.logger
            )
            try await worker.run()
            let run = try #require(try await connection.query("SELECT result::text AS result FROM orchestrator.job_runs WHERE job_id = $1", [job]).first)
            return (try await harness.state(of: job, on: connection) ?? "missing", run["result"] ?? "", log.text)
        }
    }

    @Test func aSuccessfulCheckPingsTheURLFromItsSecret() async throws {
        let server = try LocalHTTPServer(responses: [.init(status: 200, body: "OK")])
        defer { server.stop() }
        let variable = "ORCHESTRATOR_TEST_HEARTBEAT_\(UUID().uuidString.replacingOccurrences(of: "-", with: "_"))"
        let outcome = try await runCheck("""
            alerts:
              heartbeat_url_env: \(variable)
            """, environment: (variable, "\(server.baseURL)/ping/\(Self.token)"))
        #expect(outcome.state == "succeeded")
        #expect(server.requests.map(\.method) == ["GET"])
        #expect(server.requests.first?.path == "/ping/\(Self.token)")
        #expect(outcome.result.contains(#""heartbeat": {"sent": true, "status": 200}"#), "\(outcome.result)")
    }

    @Test func aFailingPingLeavesTheCheckSucceededAndShowsNoToken() async throws {
        let server = try LocalHTTPServer(responses: [.echo(503)])
        defer { server.stop() }
        let outcome = try await runCheck("""
            alerts:
              heartbeat_url: "\(server.baseURL)/ping/\(Self.token)"
            """)
        #expect(outcome.state == "succeeded", "the next check pings again; alerting itself worked")
        #expect(outcome.result.contains(#""sent": false"#) && outcome.result.contains("answered HTTP 503"), "\(outcome.result)")
        #expect(outcome.log.contains("heartbeat ping failed"))
        #expect(!outcome.result.contains(Self.token) && !outcome.log.contains(Self.token), "\(outcome.result)\n\(outcome.log)")

        // Nobody listening: the transfer error is reported the same way, token-free.
        let closed = "http://127.0.0.1:\(try LoopbackPort.free())/ping/\(Self.token)"
        let refused = try await runCheck("""
            alerts:
              heartbeat_url: "\(closed)"
            """)
        #expect(refused.state == "succeeded")
        #expect(refused.result.contains(#""sent": false"#) && !refused.result.contains(Self.token), "\(refused.result)")
    }

    @Test func theHeartbeatURLIsOneOfItsThreeFormsAndAWebURL() throws {
        let both = try Configuration.parse(yaml: """
            alerts:
              heartbeat_url: https://hc-ping.com/x
              heartbeat_url_env: HC_URL
            """).validate()
        #expect(both.contains { $0.description.contains("alerts.heartbeat_url: set one of heartbeat_url, heartbeat_url_env or heartbeat_url_file") }, "\(both)")
        let notWeb = try Configuration.parse(yaml: """
            alerts:
              heartbeat_url: "ftp://hc.example/\(Self.token)"
            """).validate()
        #expect(notWeb.contains { $0.description.contains("must be an http:// or https:// URL") }, "\(notWeb)")
        #expect(!notWeb.description.contains(Self.token), "the URL's token is not echoed: \(notWeb)")
    }
}
