import Foundation
@testable import History
import TestSupport
import Testing

/// `orchestrator alerts test` and `config check` with channels, as an operator runs them.
@Suite("Alerts command line")
struct AlertsCommandLineTests {
    func configFile(_ yaml: String) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("alerts-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    func config(_ server: LocalHTTPServer) throws -> URL {
        try configFile("""
            alerts:
              channels:
                ops-telegram: {type: telegram, bot_token_env: TEST_ALERT_BOT_TOKEN, chat_id: "-100123", api_url: "\(server.baseURL)", attempts: 1}
                ops-webhook: {type: webhook, url: "\(server.baseURL)/hook", attempts: 1}
            """)
    }

    let token = ["TEST_ALERT_BOT_TOKEN": "777:cli_Token-secret"]

    @Test func aTestMessageIsDeliveredAndReported() async throws {
        let server = try LocalHTTPServer(responses: [.json(200, #"{"ok":true}"#)])
        defer { server.stop() }
        let file = try config(server)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await CommandLineTests().run(["alerts", "test", "ops-telegram", "--config", file.path, "--json"], environment: token)
        #expect(result.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(json?["delivered"] as? Bool == true)
        #expect(json?["attempts"] as? Int == 1)
        #expect(json?["type"] as? String == "telegram")
        let request = try #require(server.requests.first)
        #expect(request.path == "/bot777:cli_Token-secret/sendMessage")
        #expect((request.json?["text"] as? String)?.hasPrefix("[INFO] Test message from orchestrator on ") == true)

        let text = try await CommandLineTests().run(["alerts", "test", "ops-webhook", "--config", file.path], environment: token)
        #expect(text.status == 0)
        #expect(text.stdout.hasPrefix("ops-webhook (webhook): test message delivered in 1 attempt"))
        #expect(server.requests.last?.json?["alert"] as? String == "orchestrator-test")
    }

    @Test func aFailedDeliveryExits1WithTheCauseAndNoToken() async throws {
        let server = try LocalHTTPServer(responses: [.json(401, #"{"ok":false,"description":"Unauthorized: /bot777:cli_Token-secret"}"#)])
        defer { server.stop() }
        let file = try config(server)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await CommandLineTests().run(["alerts", "test", "ops-telegram", "--config", file.path], environment: token)
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: ops-telegram (telegram): not delivered after 1 attempt: server answered HTTP 401: Unauthorized: /bot[redacted]"))
        #expect(!(result.stdout + result.stderr).contains("cli_Token-secret"))
    }

    @Test func unknownChannelsAndMissingSecretsHaveTheirExitCodes() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let file = try config(server)
        defer { try? FileManager.default.removeItem(at: file) }
        let unknown = try await CommandLineTests().run(["alerts", "test", "ops-pager", "--config", file.path], environment: token)
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("unknown alert channel \"ops-pager\"; configured channels: ops-telegram, ops-webhook"))

        let noToken = try await CommandLineTests().run(["alerts", "test", "ops-telegram", "--config", file.path], environment: ["TEST_ALERT_BOT_TOKEN": ""])
        #expect(noToken.status == 78)
        #expect(noToken.stderr.contains("alerts.channels.ops-telegram.bot_token_env: environment variable TEST_ALERT_BOT_TOKEN is not set or empty"))

        let check = try await CommandLineTests().run(["config", "check", "--config", file.path], environment: ["TEST_ALERT_BOT_TOKEN": ""])
        #expect(check.status == 78)
        #expect(check.stderr.contains("alerts.channels.ops-telegram.bot_token_env: environment variable TEST_ALERT_BOT_TOKEN is not set"))
        let checked = try await CommandLineTests().run(["config", "check", "--config", file.path], environment: token)
        #expect(checked.status == 0)
        #expect(checked.stdout.contains("alert channels: ops-telegram (telegram), ops-webhook (webhook)"))
        #expect(server.requests.isEmpty)
    }
}
