@testable import Alerts
@testable import Backups
@testable import Database
import Foundation
@testable import Health
@testable import History
@testable import Maintenance
import PostgresClient
@testable import Settings
@testable import Support
import TestSupport
import Testing

/// Alert episodes notified through real channels on a local HTTP server: fire once, repeat after
/// the interval, resolve; two evaluators at once; a channel that cannot be reached.
@Suite("Alert notifications", .serialized)
struct AlertNotificationTests {
    static let token = "4242:notify_Token-abc"

    static func configuration(_ server: LocalHTTPServer, repeatMinutes: Int = 30, extra: String = "") throws -> Configuration {
        try Configuration.parse(yaml: """
            alerts:
              repeat_minutes: \(repeatMinutes)
              channels:
                tg: {type: telegram, bot_token_env: NOTIFY_TEST_TOKEN, chat_id: "-100777", api_url: "\(server.baseURL)", attempts: 1}
                hook: {type: webhook, url: "\(server.baseURL)/hook", attempts: 1}
            \(extra)
            """)
    }

    static func evaluator(_ configuration: Configuration) -> AlertEvaluator {
        AlertEvaluator(configuration: configuration, logger: Harness.logger, senderHost: "sender") { name in
            try configuration.alerts.channel(named: name, environment: ["NOTIFY_TEST_TOKEN": token])
        }
    }

    static func diskRun(_ value: Double, at date: Date, host: String = "nuc") -> HealthRun {
        HealthRun(host: host, takenAt: date, durationMs: 1, databaseMs: 0,
                  samples: [HealthSample(.system, "/", "disk.used_percent", value: value, unit: "percent")])
    }

    @Test func firesOnceRepeatsAfterTheIntervalAndResolves() async throws {
        let server = try LocalHTTPServer(responses: [.json(200, #"{"ok":true}"#)])
        defer { server.stop() }
        let configuration = try Self.configuration(server)
        let evaluator = Self.evaluator(configuration)
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let start = Date().addingTimeInterval(-3600)
            func sample(_ value: Double, minutes: Double) async throws -> AlertEvaluator.Report {
                let run = Self.diskRun(value, at: start.addingTimeInterval(minutes * 60))
                try await HealthStore.store(run, jobID: nil, on: connection)
                return try await evaluator.apply(try await ThresholdEvaluator(rules: []).evaluate(run, on: connection), now: run.takenAt, on: connection)
            }
            func bodies(_ path: String) -> [[String: Any]] { server.requests.filter { $0.path == path }.compactMap(\.json) }

            let fired = try await sample(93, minutes: 0)
            #expect(fired.notices == ["firing disk.used_percent:/@nuc"])
            #expect(fired.delivered == 2)
            #expect(server.requests.count == 2)
            let hook = try #require(bodies("/hook").first)
            #expect(hook["alert"] as? String == "disk.used_percent:/@nuc")
            #expect(hook["state"] as? String == "firing")
            #expect(hook["severity"] as? String == "warning")
            #expect(hook["host"] as? String == "nuc")
            #expect(hook["summary"] as? String == "disk.used_percent of / on nuc is 93 % (above 90 %)")
            #expect((hook["fields"] as? [String: String])?["threshold"] == "90")
            let telegram = try #require(bodies("/bot\(Self.token)/sendMessage").first)
            #expect(telegram["chat_id"] as? String == "-100777")
            #expect((telegram["text"] as? String)?.hasPrefix("[WARNING] disk.used_percent of / on nuc is 93 % (above 90 %)") == true)

            // Still firing within the interval: nothing is sent.
            #expect(try await sample(93.5, minutes: 10).notices.isEmpty)
            #expect(try await sample(94, minutes: 29).notices.isEmpty)
            #expect(server.requests.count == 2)
            // After the interval: one repeat.
            #expect(try await sample(94, minutes: 31).notices == ["repeat disk.used_percent:/@nuc"])
            #expect(server.requests.count == 4)
            #expect(bodies("/hook").last?["state"] as? String == "firing")
            #expect((bodies("/bot\(Self.token)/sendMessage").last?["text"] as? String)?.contains("still firing") == true)
            #expect(try await sample(94, minutes: 40).notices.isEmpty)
            // Cleared: resolved once.
            #expect(try await sample(70, minutes: 45).notices == ["resolved disk.used_percent:/@nuc"])
            #expect(try await sample(70, minutes: 50).notices.isEmpty)
            #expect(server.requests.count == 6)
            #expect(bodies("/hook").last?["state"] as? String == "resolved")
            #expect(bodies("/hook").last?["details"] as? String
                == "Alert disk.used_percent resolved: disk.used_percent of / on nuc is 70 % (warning above 90 %).")
            #expect((bodies("/bot\(Self.token)/sendMessage").last?["text"] as? String)?.hasPrefix("[RESOLVED] ") == true)

            let episode = try #require(try await connection.query(
                "SELECT state, notifications, resolved_at IS NOT NULL AS resolved FROM orchestrator.alerts"
            ).first)
            #expect(episode["state"] == "resolved" && episode["notifications"] == "3" && episode["resolved"] == "t")
            let deliveries = try await connection.query(
                "SELECT channel, event, delivered, attempts FROM orchestrator.alert_deliveries ORDER BY id"
            ).rows.map { "\($0["channel"]!) \($0["event"]!) \($0["delivered"]!) \($0["attempts"]!)" }
            #expect(deliveries == ["hook firing t 1", "tg firing t 1", "hook repeat t 1", "tg repeat t 1", "hook resolved t 1", "tg resolved t 1"])
            #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.open_alerts", on: connection) == 0)
        }
    }

    @Test func twoConcurrentEvaluatorsMakeOneEpisodeAndOneNotification() async throws {
        let server = try LocalHTTPServer(responses: [.json(200, #"{"ok":true}"#)])
        defer { server.stop() }
        let configuration = try Self.configuration(server, extra: "  channels_for: [hook]")
        try await Harness.with { harness in
            let setup = try await harness.connect()
            defer { setup.close() }
            let now = Date()
            for round in 0..<5 {
                let host = "host-\(round)"
                let run = Self.diskRun(96, at: now, host: host)
                try await HealthStore.store(run, jobID: nil, on: setup)
                let first = try await harness.connect()
                let second = try await harness.connect()
                defer { first.close(); second.close() }
                async let a = Self.evaluator(configuration).afterHealthRun(run, now: now, on: first)
                async let b = Self.evaluator(configuration).afterHealthRun(run, now: now, on: second)
                let reports = try await [a, b]
                #expect(reports.flatMap(\.notices) == ["firing disk.used_percent:/@\(host)"])
                #expect(reports.map(\.firing) == [1, 1])
                #expect(try await harness.count("SELECT count(*) AS n FROM orchestrator.alerts WHERE host = $1", [host], on: setup) == 1)
                #expect(try await harness.count(
                    "SELECT count(*) AS n FROM orchestrator.alert_deliveries d JOIN orchestrator.alerts a ON a.id = d.alert_id WHERE a.host = $1",
                    [host], on: setup) == 1)
            }
            #expect(server.requests.count == 5)
            #expect(Set(server.requests.map(\.path)) == ["/hook"])
        }
    }

    @Test func aChannelThatCannotBeReachedIsRecordedAndEvaluationSucceeds() async throws {
        // A port that was just free: connections are refused.
        let closed = try LocalHTTPServer()
        let port = closed.port
        closed.stop()
        let server = try LocalHTTPServer(responses: [.init(status: 204)])
        defer { server.stop() }
        let configuration = try Configuration.parse(yaml: """
            alerts:
              channels:
                down: {type: webhook, url: "http://127.0.0.1:\(port)/hook", attempts: 2, timeout_seconds: 5}
                up: {type: webhook, url: "\(server.baseURL)/hook", attempts: 1}
                secretless: {type: telegram, bot_token_env: NOT_SET_ANYWHERE_FOR_TESTS, chat_id: "1", attempts: 1}
            """)
        let evaluator = AlertEvaluator(configuration: configuration, logger: Harness.logger)
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let run = Self.diskRun(99, at: Date())
            try await HealthStore.store(run, jobID: nil, on: connection)
            let report = try await evaluator.afterHealthRun(run, on: connection)
            #expect(report.notices == ["firing disk.used_percent:/@nuc"])
            #expect(report.delivered == 1)
            #expect(report.undelivered.count == 2)
            #expect(server.requests.count == 1)
            let rows = try await connection.query(
                "SELECT channel, delivered, attempts, error FROM orchestrator.alert_deliveries ORDER BY channel"
            ).rows
            #expect(rows.map { $0["channel"] } == ["down", "secretless", "up"])
            #expect(rows[0]["delivered"] == "f" && rows[0]["attempts"] == "2")
            #expect(rows[0]["error"]?.isEmpty == false)
            #expect(rows[1]["delivered"] == "f" && rows[1]["attempts"] == "0")
            #expect(rows[1]["error"]?.contains("NOT_SET_ANYWHERE_FOR_TESTS") == true)
            #expect(rows[2]["delivered"] == "t")
            let open = try #require(try await connection.query("SELECT failed_deliveries, severity FROM orchestrator.open_alerts").first)
            #expect(open["failed_deliveries"] == "2" && open["severity"] == "critical")
        }
    }
}

/// The health kind run by a worker evaluates thresholds on the run it stored and notifies.
@Suite("Alerts from the health job")
struct HealthJobAlertTests {
    @Test func theHealthJobFiresAThresholdThroughAWebhook() async throws {
        let server = try LocalHTTPServer(responses: [.init(status: 204)])
        defer { server.stop() }
        let configuration = try Configuration.parse(yaml: """
            health: {cpu_interval_ms: 100}
            alerts:
              channels:
                hook: {type: webhook, url: "\(server.baseURL)/hook", attempts: 1}
              thresholds:
                - {metric: uptime.seconds, warning: 1}
            """)
        try await Harness.with(configuration: configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let id = try await harness.enqueue(kind: "health", on: connection)
            try await harness.worker(drain: true).run()
            #expect(try await harness.state(of: id, on: connection) == "succeeded")
            let host = HostInfo.hostName
            let result = try #require(try await connection.query("SELECT result::text AS r FROM orchestrator.job_runs WHERE job_id = $1", [id]).first?["r"])
            #expect(result.contains("firing uptime.seconds:host@\(host)"))
            // Other defaults (disk, memory) may fire too on a busy machine; this one must be among them.
            let hook = try #require(server.requests.compactMap(\.json).first { $0["alert"] as? String == "uptime.seconds:host@\(host)" })
            #expect(hook["state"] as? String == "firing" && hook["severity"] as? String == "warning")
            #expect(try await harness.count(
                "SELECT count(*) AS n FROM orchestrator.open_alerts WHERE rule = 'uptime.seconds' AND host = $1", [host], on: connection) == 1)
        }
    }
}
