@testable import Alerting
import Foundation
import Logging
import Testing
import TestSupport

/// Telegram and webhook channels against a local HTTP server started by each test.
@Suite("HTTP alert channels")
struct HTTPChannelTests {
    static let token = "123456789:AAE-test_Token-xyz"
    static let fast = DeliveryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20), maxDelay: .milliseconds(50))
    static var logger: Logger {
        var logger = Logger(label: "alerting-tests")
        logger.logLevel = .critical
        return logger
    }

    static let message = AlertMessage(
        alert: "disk-usage:/", title: "Disk / is 93 % full", severity: .critical, state: .firing,
        body: "Used 93 % of 100 GB.\nThreshold: critical at 90 %.", fields: [.init("mount", "/"), .init("used_percent", "93")],
        host: "nuc", time: Date(timeIntervalSince1970: 1_795_000_000)
    )

    func telegram(_ server: LocalHTTPServer, timeouts: ChannelTimeouts = ChannelTimeouts(connect: .seconds(2), total: .seconds(5))) throws -> TelegramChannel {
        try TelegramChannel(name: "ops-telegram", botToken: Self.token, chatID: "-100123", apiBaseURL: server.baseURL + "/", timeouts: timeouts)
    }

    @Test func telegramPostsChatAndTextToTheBotPath() async throws {
        let server = try LocalHTTPServer(responses: [.json(200, #"{"ok":true,"result":{"message_id":1}}"#)])
        defer { server.stop() }
        let report = await AlertDelivery.deliver(Self.message, via: try telegram(server), policy: Self.fast, logger: Self.logger)
        #expect(report.delivered)
        #expect(report.attempts == 1)
        #expect(report.lastError == nil)
        let request = try #require(server.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/bot\(Self.token)/sendMessage")
        #expect(request.headers["content-type"] == "application/json; charset=utf-8")
        let json = try #require(request.json)
        #expect(json["chat_id"] as? String == "-100123")
        let text = try #require(json["text"] as? String)
        #expect(text.hasPrefix("[CRITICAL] Disk / is 93 % full\n\nUsed 93 % of 100 GB.\nThreshold: critical at 90 %."))
        #expect(text.contains("mount: /\nused_percent: 93"))
        #expect(text.contains("host: nuc"))
        #expect(text.contains("time: 2026-11-18T"))
    }

    @Test func webhookPostsTheDocumentedPayloadWithExtraHeaders() async throws {
        let server = try LocalHTTPServer(responses: [.init(status: 204)])
        defer { server.stop() }
        let channel = try WebhookChannel(
            name: "ops-webhook", url: server.baseURL + "/hooks/alerts",
            headers: [(name: "Authorization", value: "Bearer hook-secret"), (name: "X-Source", value: "nuc")],
            secrets: ["Bearer hook-secret"], userAgent: "orchestrator/test"
        )
        var resolved = Self.message
        resolved.state = .resolved
        let report = await AlertDelivery.deliver(resolved, via: channel, policy: Self.fast, logger: Self.logger)
        #expect(report.delivered)
        let request = try #require(server.requests.first)
        #expect(request.path == "/hooks/alerts")
        #expect(request.headers["authorization"] == "Bearer hook-secret")
        #expect(request.headers["x-source"] == "nuc")
        #expect(request.headers["user-agent"] == "orchestrator/test")
        #expect(request.headers["expect"] == nil)
        let payload = try JSONDecoder().decode(WebhookChannel.Payload.self, from: Data(request.body))
        #expect(payload == WebhookChannel.Payload(resolved))
        let json = try #require(request.json)
        #expect(json["version"] as? Int == 1)
        #expect(json["alert"] as? String == "disk-usage:/")
        #expect(json["severity"] as? String == "critical")
        #expect(json["state"] as? String == "resolved")
        #expect(json["summary"] as? String == "Disk / is 93 % full")
        #expect(json["details"] as? String == "Used 93 % of 100 GB.\nThreshold: critical at 90 %.")
        #expect(json["fields"] as? [String: String] == ["mount": "/", "used_percent": "93"])
        #expect(json["host"] as? String == "nuc")
        #expect(json["time"] as? String == AlertMessage.timestamp(Self.message.time))
    }

    @Test func aServerErrorIsRetriedUntilItSucceeds() async throws {
        let server = try LocalHTTPServer(responses: [.init(status: 500, body: "boom"), .init(status: 503), .json(200, #"{"ok":true}"#)])
        defer { server.stop() }
        let report = await AlertDelivery.deliver(Self.message, via: try telegram(server), policy: Self.fast, logger: Self.logger)
        #expect(report.delivered)
        #expect(report.attempts == 3)
        #expect(server.requests.count == 3)
        #expect(Set(server.requests.map(\.bodyText)).count == 1)
    }

    @Test func aClientErrorIsNotRetried() async throws {
        let server = try LocalHTTPServer(responses: [.json(400, #"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#)])
        defer { server.stop() }
        let report = await AlertDelivery.deliver(Self.message, via: try telegram(server), policy: Self.fast, logger: Self.logger)
        #expect(!report.delivered)
        #expect(report.attempts == 1)
        #expect(server.requests.count == 1)
        let error = try #require(report.lastError)
        #expect(error.statusCode == 400)
        #expect(!error.isTransient)
        #expect(error.message == "server answered HTTP 400: Bad Request: chat not found")
    }

    @Test func telegramRefusingWithOkFalseIsAPermanentFailure() async throws {
        let server = try LocalHTTPServer(responses: [.json(200, #"{"ok":false,"description":"Forbidden: bot was blocked by the user"}"#)])
        defer { server.stop() }
        let report = await AlertDelivery.deliver(Self.message, via: try telegram(server), policy: Self.fast, logger: Self.logger)
        #expect(!report.delivered)
        #expect(report.attempts == 1)
        #expect(report.lastError?.reason == .rejected)
        #expect(report.lastError?.message.contains("bot was blocked") == true)
    }

    @Test func tooManyRequestsWaitsAsTelegramAsks() async throws {
        let server = try LocalHTTPServer(responses: [
            .json(429, #"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#),
            .json(200, #"{"ok":true}"#),
        ])
        defer { server.stop() }
        let start = ContinuousClock.now
        let report = await AlertDelivery.deliver(Self.message, via: try telegram(server), policy: Self.fast, logger: Self.logger)
        #expect(report.delivered)
        #expect(report.attempts == 2)
        // The policy alone would wait 10-20 ms; the server asked for a second.
        #expect(ContinuousClock.now - start >= .seconds(1))
    }

    @Test func aRetryAfterLongerThanAllowedGivesUp() async throws {
        let server = try LocalHTTPServer(responses: [.init(status: 429, headers: ["Retry-After": "3600"])])
        defer { server.stop() }
        let channel = try WebhookChannel(name: "ops-webhook", url: server.baseURL + "/hook")
        let report = await AlertDelivery.deliver(Self.message, via: channel, policy: Self.fast, logger: Self.logger)
        #expect(!report.delivered)
        #expect(report.attempts == 1)
        #expect(report.lastError?.retryAfter == .seconds(3600))
        #expect(report.lastError?.isTransient == true)
    }

    @Test func aClosedPortIsARecordedFailureWithoutTheToken() async throws {
        let port = try LocalSocketServer.closedPort()
        let channel = try TelegramChannel(name: "ops-telegram", botToken: Self.token, chatID: "1", apiBaseURL: "http://127.0.0.1:\(port)")
        let report = await AlertDelivery.deliver(Self.message, via: channel, policy: Self.fast, logger: Self.logger)
        #expect(!report.delivered)
        #expect(report.attempts == 3)
        let error = try #require(report.lastError)
        #expect(error.curlCode == 7)
        #expect(error.isTransient)
        #expect(error.message.contains("127.0.0.1"))
        #expect(!"\(error)".contains("AAE-test_Token"))
    }

    @Test func theTokenIsRedactedEvenWhenTheServerEchoesIt() async throws {
        let echo = #"{"ok":false,"description":"Not Found: /bot\#(Self.token)/sendMessage (token \#(Self.token))"}"#
        let server = try LocalHTTPServer(responses: [.json(404, echo)])
        defer { server.stop() }
        let report = await AlertDelivery.deliver(Self.message, via: try telegram(server), policy: Self.fast, logger: Self.logger)
        let error = try #require(report.lastError)
        #expect(!error.message.contains("AAE-test_Token"))
        #expect(!error.description.contains("AAE-test_Token"))
        #expect(error.message.contains("/bot[redacted]/sendMessage (token [redacted])"))
        #expect(Redactor()("GET https://api.telegram.org/bot42:abc_DEF-1/sendMessage") == "GET https://api.telegram.org/bot[redacted]/sendMessage")
        #expect(Redactor(secrets: ["hunter22"])("login hunter22 failed") == "login [redacted] failed")
    }

    /// A webhook whose URL carries tokens in its path and query, against a server that echoes
    /// the request line and the decoded query in its error body.
    @Test(arguments: [404, 500])
    func aWebhookURLsSecretPartsAreRedactedWhenTheServerEchoesThem(status: Int) async throws {
        let server = try LocalHTTPServer(responses: [.echo(status)])
        defer { server.stop() }
        let url = server.baseURL + "/hook/PathTok3n-9f8e7d?token=QueryTok3n%2B55&team=ops"
        let channel = try WebhookChannel(name: "ops-hook", url: url, timeouts: ChannelTimeouts(connect: .seconds(2), total: .seconds(5)))
        let report = await AlertDelivery.deliver(Self.message, via: channel, policy: Self.fast, logger: Self.logger)
        #expect(server.requests.first?.path == "/hook/PathTok3n-9f8e7d?token=QueryTok3n%2B55&team=ops")
        let error = try #require(report.lastError)
        #expect(error.statusCode == status)
        #expect(error.message == "server answered HTTP \(status): Cannot POST /[redacted]/[redacted]?token=[redacted]&team=ops (token=[redacted], team=ops)")
        for text in [error.message, error.description, "\(report)"] {
            #expect(!text.contains("PathTok3n") && !text.contains("QueryTok3n"), "\(text)")
        }
    }

    @Test func everySecretPartOfAChannelURLIsKnownToItsRedactor() {
        let redactor = Redactor(urls: ["https://bob:s3cr3t-pw@hooks.example.org/services/T0001/B0002/XyZsecret?sig=abcd1234&v=1#frag-key"])
        let text = "POST /services/T0001/B0002/XyZsecret?sig=abcd1234 as bob with s3cr3t-pw (frag-key) to hooks.example.org: the webhook services failed"
        #expect(redactor(text) == "POST /[redacted]/[redacted]/[redacted]/[redacted]?sig=[redacted] as bob with [redacted] ([redacted]) to hooks.example.org: the webhook [redacted] failed")
        // Short user names and words touching other letters stay: `services` inside `webservices` is not the path segment.
        #expect(redactor("webservices") == "webservices")
        // Percent-decoded forms too.
        #expect(Redactor(urls: ["https://h.example/x?key=a%2Fb%20cdef"])("got key a/b cdef") == "got key [redacted]")
        // The Telegram API URL of a channel, with the token outside any URL it was given.
        let telegram = Redactor(secrets: [Self.token], urls: ["http://127.0.0.1:9/proxy-key-77"])
        #expect(telegram("Not Found: /proxy-key-77/bot\(Self.token)/sendMessage") == "Not Found: /[redacted]/bot[redacted]/sendMessage")
    }

    @Test func anUnplausibleTokenIsRefusedWithoutEchoingIt() throws {
        #expect(TelegramChannel.isPlausibleToken(Self.token))
        for bad in ["", "123", "abc:def", "123:", "123:abc/../x", "123:abc def"] {
            #expect(!TelegramChannel.isPlausibleToken(bad))
        }
        let error = #expect(throws: AlertDeliveryError.self) {
            try TelegramChannel(name: "t", botToken: "12:ab/c?x=1", chatID: "1")
        }
        #expect(error?.reason == .invalidRequest)
        #expect(error?.message.contains("ab/c") == false)
    }
}
