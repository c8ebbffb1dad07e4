import Alerting
@testable import Alerts
import Foundation
@testable import History
@testable import Kinds
import Logging
@testable import Settings
import TestSupport
import Testing

@Suite("Alert channel configuration")
struct AlertConfigurationTests {
    private func errors(_ yaml: String) -> [String] {
        do {
            let configuration = try Configuration.parse(yaml: yaml)
            return configuration.validate(registry: .standard).map(\.description)
        } catch {
            return error.errors.map(\.description)
        }
    }

    private func channels(_ body: String) -> String {
        "alerts:\n  channels:\n" + body.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n"
    }

    @Test func channelsOfEveryTypeDecodeWithDefaults() throws {
        let configuration = try Configuration.parse(yaml: channels("""
            ops-telegram: {type: telegram, bot_token_env: TELEGRAM_BOT_TOKEN, chat_id: -100123}
            ops-webhook:
              type: webhook
              url: https://hooks.example.org/alerts
              headers: {X-Source: nuc}
              headers_env: {Authorization: WEBHOOK_AUTH}
              headers_file: {X-Signature-Key: /etc/orchestrator/webhook-key}
              timeout_seconds: 5
              attempts: 5
            ops-mail:
              type: email
              smtp_url: smtp://mail.example.org:587
              starttls: true
              from: orchestrator@example.org
              to: [ops@example.org]
              username: orchestrator
              password_file: /etc/orchestrator/smtp-password
            """))
        #expect(configuration.validate(registry: .standard).isEmpty)
        let telegram = try #require(configuration.alerts.channels["ops-telegram"])
        #expect(telegram == AlertChannelSettings(.telegram(TelegramChannelSettings(
            botToken: SecretReference(environmentVariable: "TELEGRAM_BOT_TOKEN"), chatID: "-100123"))))
        #expect(telegram.timeoutSeconds == 15 && telegram.attempts == 3)
        let webhook = try #require(configuration.alerts.channels["ops-webhook"])
        #expect(webhook == AlertChannelSettings(.webhook(WebhookChannelSettings(
            url: "https://hooks.example.org/alerts", headers: ["X-Source": "nuc"], headersEnv: ["Authorization": "WEBHOOK_AUTH"],
            headersFile: ["X-Signature-Key": "/etc/orchestrator/webhook-key"])), timeoutSeconds: 5, attempts: 5))
        let mail = try #require(configuration.alerts.channels["ops-mail"])
        #expect(mail == AlertChannelSettings(.email(EmailChannelSettings(
            smtpURL: "smtp://mail.example.org:587", startTLS: true, from: "orchestrator@example.org", to: ["ops@example.org"],
            username: "orchestrator", password: SecretReference(file: "/etc/orchestrator/smtp-password")))))
        #expect(try Configuration.parse(yaml: "alerts: {}").alerts == AlertSettings())
    }

    @Test func inlineSecretsAreRejectedWithWhereTheyBelong() {
        #expect(errors(channels("t: {type: telegram, bot_token: \"123:abc\", chat_id: 1}")) == [
            "alerts.channels.t.bot_token: secrets are never written in the configuration; use bot_token_env (an environment variable) or bot_token_file (a file readable only by the service user)",
        ])
        #expect(errors(channels("m: {type: email, smtp_url: \"smtp://localhost\", from: a@b.c, to: [d@e.f], username: u, password: x}")).first?
            .hasPrefix("alerts.channels.m.password: secrets are never written in the configuration; use password_env") == true)
        #expect(errors(channels("w: {type: webhook, url: \"https://x.example\", headers: {Authorization: \"Bearer abc\"}}")) == [
            "alerts.channels.w.headers.Authorization: looks like a secret; secrets are never written in the configuration: move it to headers_env or headers_file",
        ])
    }

    @Test func unknownKeysAndTypesNameTheirPath() {
        #expect(errors(channels("t: {type: telegram, bot_token_env: T, chat: 1}")).first?
            .hasPrefix("alerts.channels.t.chat: unknown key; allowed: type, timeout_seconds, attempts, bot_token_env, bot_token_file, chat_id, api_url") == true)
        #expect(errors(channels("p: {type: pager}")) == ["alerts.channels.p.type: unknown channel type \"pager\"; valid types: telegram, webhook, email"])
        #expect(errors(channels("p: {url: \"https://x.example\"}")) == ["alerts.channels.p.type: required key is missing"])
        #expect(errors("alerts:\n  chanels: {}\n").first?.hasPrefix("alerts.chanels: unknown key") == true)
    }

    @Test func shapesAreValidatedWithoutTheEnvironment() {
        let problems = errors(channels("""
            Bad_Name: {type: telegram, bot_token_env: T, chat_id: "1"}
            both: {type: telegram, bot_token_env: T, bot_token_file: /t, chat_id: "1", api_url: "ftp://x"}
            none: {type: telegram, chat_id: "a b", timeout_seconds: 0, attempts: 11}
            hook: {type: webhook, headers_env: {X-A: "1BAD"}, headers_file: {X-A: relative/path}}
            mail: {type: email, smtp_url: "smtps://mail.example.org", starttls: true, from: "nobody", to: [], username: u, password_env: P}
            clear: {type: email, smtp_url: "smtp://mail.example.org", from: a@example.org, to: [b@example.org], username: u, password_env: P}
            local: {type: email, smtp_url: "smtp://localhost:25", from: a@example.org, to: [b@example.org], password_env: P}
            """))
        let expected = [
            "alerts.channels.Bad_Name: name must be lower-case letters, digits, _ or -",
            "alerts.channels.both.bot_token: set either bot_token_env or bot_token_file, not both",
            "alerts.channels.both.api_url: must be an http:// or https:// URL, got \"ftp://x\"",
            "alerts.channels.clear.starttls: the password would cross the network in clear text; set starttls: true or use smtps://",
            "alerts.channels.hook.url: set exactly one of url, url_env or url_file",
            "alerts.channels.hook.headers_env.X-A: \"1BAD\" is not an environment variable name",
            "alerts.channels.hook.headers_file.X-A: header also set under alerts.channels.hook.headers_env",
            "alerts.channels.hook.headers_file.X-A: must be an absolute path, got \"relative/path\"",
            "alerts.channels.local.username: a password is configured but no username",
            "alerts.channels.mail.starttls: smtps:// is TLS from the start; remove starttls or use smtp://",
            "alerts.channels.mail.from: \"nobody\" is not a plain address (local@domain)",
            "alerts.channels.mail.to: must list at least one address",
            "alerts.channels.none.timeout_seconds: must be 1...300, got 0",
            "alerts.channels.none.attempts: must be 1...10, got 11",
            "alerts.channels.none.bot_token: missing; set bot_token_env (an environment variable) or bot_token_file (a file)",
            "alerts.channels.none.chat_id: must be a chat id (-100123…) or @channelname, got \"a b\"",
        ]
        #expect(problems == expected)
    }

    @Test func secretsAreCheckedOnlyWhenChannelsAreBuilt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("alert-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty").path
        try "\n".write(toFile: empty, atomically: true, encoding: .utf8)
        let configuration = try Configuration.parse(yaml: channels("""
            env: {type: telegram, bot_token_env: TEST_BOT_TOKEN, chat_id: "1"}
            missing-file: {type: email, smtp_url: "smtp://localhost", from: a@example.org, to: [b@example.org], username: u, password_file: \(directory.path)/absent}
            empty-file: {type: webhook, url_file: \(empty)}
            odd-token: {type: telegram, bot_token_env: ODD_TOKEN, chat_id: "1"}
            """))
        #expect(configuration.validate(registry: .standard).isEmpty)
        let problems = configuration.alerts.checkSecrets(environment: ["ODD_TOKEN": "not/a:token"]).map(\.description)
        #expect(problems == [
            "alerts.channels.empty-file.url_file: \(empty) is empty",
            "alerts.channels.env.bot_token_env: environment variable TEST_BOT_TOKEN is not set or empty; set it in the service's environment (e.g. /etc/orchestrator/environment) or use bot_token_file",
            "alerts.channels.missing-file.password_file: cannot read \(directory.path)/absent: it does not exist",
            "alerts.channels.odd-token.bot_token_env: the bot token does not look like a Telegram token (digits, ':', letters, digits, '_' or '-')",
        ])
        #expect(throws: UnknownAlertChannelError.self) { try configuration.alerts.channel(named: "nope", environment: [:]) }
        let unknown = UnknownAlertChannelError(name: "nope", configured: configuration.alerts.channels.keys.sorted())
        #expect(unknown.description == "unknown alert channel \"nope\"; configured channels: empty-file, env, missing-file, odd-token")
    }

    @Test func aConfiguredChannelSendsWithSecretsFromFileAndEnvironment() async throws {
        let server = try LocalHTTPServer(responses: [.json(200, #"{"ok":true}"#)])
        defer { server.stop() }
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("bot-token-\(UUID().uuidString)").path
        try "42:file_Token-abc\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        let configuration = try Configuration.parse(yaml: channels("""
            chat: {type: telegram, bot_token_file: \(tokenFile), chat_id: "@ops", api_url: "\(server.baseURL)", attempts: 1}
            hook: {type: webhook, url_env: HOOK_URL, headers_env: {Authorization: HOOK_AUTH}, timeout_seconds: 3}
            """))
        let environment = ["HOOK_URL": server.baseURL + "/hook?key=url-secret", "HOOK_AUTH": "Bearer header-secret"]
        var logger = Logger(label: "alert-config-tests")
        logger.logLevel = .critical
        let message = AlertMessage(alert: "test", title: "hello", severity: .info, host: "nuc")

        let chat = try configuration.alerts.channel(named: "chat", environment: environment)
        #expect(chat.type == "telegram" && chat.policy.maxAttempts == 1)
        #expect(await chat.deliver(message, logger: logger).delivered)
        #expect(server.requests.last?.path == "/bot42:file_Token-abc/sendMessage")
        #expect(server.requests.last?.json?["chat_id"] as? String == "@ops")

        let hook = try configuration.alerts.channel(named: "hook", environment: environment)
        #expect(hook.policy.maxAttempts == 3)
        #expect(await hook.deliver(message, logger: logger).delivered)
        #expect(server.requests.last?.path == "/hook?key=url-secret")
        #expect(server.requests.last?.headers["authorization"] == "Bearer header-secret")

        // Secrets from the environment are redacted from errors too.
        server.stop()
        let failed = await AlertDelivery.deliver(message, via: hook.channel, policy: DeliveryPolicy(maxAttempts: 1), logger: logger)
        #expect(!failed.delivered)
        #expect(failed.lastError?.message.contains("url-secret") == false)
    }
}
