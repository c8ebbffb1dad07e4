import Foundation
@testable import Kinds
import PostgresClient
@testable import Runtime
@testable import Settings
import TestSupport
import Testing

/// A webhook whose URL carries tokens, against a server that echoes the request line and query
/// in its error body: the tokens reach no row, no job result or log tail, no log line and no
/// command output.
@Suite("Alert secret redaction", .serialized)
struct AlertRedactionTests {
    static let pathToken = "PathSecret-7c1d2e3f"
    static let queryToken = "QuerySecret-0a9b8c7d"

    static func hookURL(_ server: LocalHTTPServer) -> String {
        "\(server.baseURL)/hook/\(pathToken)?token=\(queryToken)"
    }

    static func leaks(_ text: String?) -> Bool {
        guard let text else { return false }
        return text.contains(pathToken) || text.contains(queryToken)
    }

    @Test(arguments: [404, 503])
    func theCheckAlertsJobStoresAndLogsNoTokenOfTheWebhookURL(status: Int) async throws {
        let server = try LocalHTTPServer(responses: [.echo(status)])
        defer { server.stop() }
        let urlFile = FileManager.default.temporaryDirectory.appendingPathComponent("hook-url-\(UUID().uuidString)")
        try Self.hookURL(server).write(to: urlFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: urlFile) }
        let configuration = try Configuration.parse(yaml: """
            backups:
              profiles:
                daily: {globals: false, paths: [/etc/hostname]}
            alerts:
              channels:
                secret-hook: {type: webhook, url_file: "\(urlFile.path)", attempts: 2}
                inline-hook: {type: webhook, url: "\(Self.hookURL(server))", attempts: 1}
            """)
        try await Harness.with(configuration: configuration) { harness in
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
            #expect(try await harness.state(of: job, on: connection) == "succeeded")

            // The server did see the tokens, and answered with them.
            #expect(server.requests.contains { $0.path.contains(Self.pathToken) && $0.path.contains(Self.queryToken) })
            let deliveries = try await connection.query("SELECT channel, delivered, error FROM orchestrator.alert_deliveries ORDER BY channel").rows
            #expect(Set(deliveries.compactMap { $0["channel"] }) == ["inline-hook", "secret-hook"])
            for row in deliveries {
                #expect(row["delivered"] == "f")
                #expect(row["error"]?.contains("HTTP \(status): Cannot POST /[redacted]/[redacted]?token=[redacted]") == true, "\(row)")
                #expect(!Self.leaks(row["error"]), "\(row)")
            }
            let run = try #require(try await connection.query(
                "SELECT result::text AS result, log_tail, error FROM orchestrator.job_runs WHERE job_id = $1", [job]
            ).first)
            #expect(run["result"]?.contains("[redacted]") == true, "\(run)")
            #expect(run["log_tail"]?.contains("alert delivery failed") == true, "\(run)")
            for column in ["result", "log_tail", "error"] {
                #expect(!Self.leaks(run[column]), "\(column): \(run[column] ?? "")")
            }
            #expect(log.text.contains("Cannot POST /[redacted]/[redacted]"), "\(log.text)")
            #expect(!Self.leaks(log.text), "\(log.text)")
        }
    }

    @Test func alertsTestPrintsNoTokenOfTheWebhookURL() async throws {
        let server = try LocalHTTPServer(responses: [.echo(401)])
        defer { server.stop() }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("alerts-\(UUID().uuidString).yaml")
        try """
            alerts:
              channels:
                hook: {type: webhook, url_env: TEST_SECRET_HOOK_URL, attempts: 1}
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let environment = ["TEST_SECRET_HOOK_URL": Self.hookURL(server)]
        for json in [false, true] {
            let result = try await CommandLineTests().run(
                ["alerts", "test", "hook", "--config", file.path, "--log-level", "trace"] + (json ? ["--json"] : []), environment: environment
            )
            #expect(result.status == 1)
            #expect((result.stdout + result.stderr).contains("HTTP 401: Cannot POST /[redacted]/[redacted]?token=[redacted]"), "\(result)")
            #expect(!Self.leaks(result.stdout + result.stderr), "\(result)")
        }
        #expect(server.requests.count == 2)
    }
}
