@testable import Alerts
import Foundation
@testable import Health
@testable import History
import PostgresClient
@testable import Settings
import TestSupport
import Testing

/// Thresholds judged over synthetic samples stored as real health runs, one evaluation after
/// each run, exactly as the health job does.
@Suite("Alert thresholds", .serialized)
struct AlertThresholdTests {
    struct Step: Sendable {
        let minutesAgo: Double
        let value: Double?
        var status: HealthSample.Status = .ok
    }

    struct Expected: Sendable, Equatable {
        var episodes = 0
        var state: String?
        var severity: String?
        var notifications = 0
        /// Minutes before the last step at which the condition was first seen.
        var firstSeenMinutesAgo: Double?
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        var rules: [ThresholdRule] = []
        var category = HealthSample.Category.system
        let metric: String
        var subject = "host"
        let steps: [Step]
        let expected: Expected
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "below warning", metric: "disk.used_percent", subject: "/", steps: [Step(minutesAgo: 0, value: 85)], expected: Expected()),
        Case(name: "above warning", metric: "disk.used_percent", subject: "/", steps: [Step(minutesAgo: 0, value: 91)],
             expected: Expected(episodes: 1, state: "firing", severity: "warning", notifications: 1, firstSeenMinutesAgo: 0)),
        Case(name: "above critical", metric: "disk.used_percent", subject: "/", steps: [Step(minutesAgo: 0, value: 97)],
             expected: Expected(episodes: 1, state: "firing", severity: "critical", notifications: 1)),
        Case(name: "for: not held yet", metric: "cpu.usage_percent",
             steps: [Step(minutesAgo: 4, value: 90), Step(minutesAgo: 2, value: 91), Step(minutesAgo: 0, value: 92)], expected: Expected()),
        Case(name: "for: held", metric: "cpu.usage_percent",
             steps: [Step(minutesAgo: 6, value: 90), Step(minutesAgo: 3, value: 91), Step(minutesAgo: 0, value: 92)],
             expected: Expected(episodes: 1, state: "firing", severity: "warning", notifications: 1, firstSeenMinutesAgo: 6)),
        Case(name: "for: broken by a low sample", metric: "cpu.usage_percent",
             steps: [Step(minutesAgo: 10, value: 90), Step(minutesAgo: 8, value: 90), Step(minutesAgo: 6, value: 50),
                     Step(minutesAgo: 4, value: 90), Step(minutesAgo: 2, value: 90), Step(minutesAgo: 0, value: 90)],
             expected: Expected()),
        Case(name: "for: critical not held long enough fires as warning", metric: "cpu.usage_percent",
             steps: [Step(minutesAgo: 10, value: 90), Step(minutesAgo: 5, value: 90), Step(minutesAgo: 2, value: 99), Step(minutesAgo: 0, value: 99)],
             expected: Expected(episodes: 1, state: "firing", severity: "warning", notifications: 1, firstSeenMinutesAgo: 10)),
        Case(name: "resolved", metric: "memory.used_percent", steps: [Step(minutesAgo: 2, value: 90), Step(minutesAgo: 0, value: 70)],
             expected: Expected(episodes: 1, state: "resolved", severity: "warning", notifications: 2)),
        Case(name: "escalation", metric: "disk.used_percent", subject: "/",
             steps: [Step(minutesAgo: 4, value: 91), Step(minutesAgo: 2, value: 92), Step(minutesAgo: 0, value: 97)],
             expected: Expected(episodes: 1, state: "firing", severity: "critical", notifications: 2, firstSeenMinutesAgo: 4)),
        Case(name: "severity never drops within an episode", metric: "disk.used_percent", subject: "/",
             steps: [Step(minutesAgo: 2, value: 97), Step(minutesAgo: 0, value: 91)],
             expected: Expected(episodes: 1, state: "firing", severity: "critical", notifications: 1)),
        Case(name: "no temperature sensor", metric: "temperature.celsius", steps: [Step(minutesAgo: 0, value: nil, status: .absent)],
             expected: Expected()),
        Case(name: "sensor gone resolves", metric: "temperature.celsius",
             steps: [Step(minutesAgo: 2, value: 80), Step(minutesAgo: 0, value: nil, status: .absent)],
             expected: Expected(episodes: 1, state: "resolved", severity: "warning", notifications: 2)),
        Case(name: "a failed sample keeps the episode", metric: "disk.used_percent", subject: "/",
             steps: [Step(minutesAgo: 2, value: 91), Step(minutesAgo: 0, value: nil, status: .failed)],
             expected: Expected(episodes: 1, state: "firing", severity: "warning", notifications: 1)),
        Case(name: "below: a check returning 0", rules: [ThresholdRule(metric: "check.value", subject: "trades-24h", critical: 1, below: true)],
             category: .check, metric: "check.value", subject: "trades-24h", steps: [Step(minutesAgo: 0, value: 0)],
             expected: Expected(episodes: 1, state: "firing", severity: "critical", notifications: 1)),
        Case(name: "disabled", rules: [ThresholdRule(metric: "temperature.celsius", enabled: false)], metric: "temperature.celsius",
             steps: [Step(minutesAgo: 0, value: 99)], expected: Expected()),
        Case(name: "a unit that is down", category: .service, metric: "systemd.active", subject: "postgresql",
             steps: [Step(minutesAgo: 0, value: 0, status: .failed)],
             expected: Expected(episodes: 1, state: "firing", severity: "critical", notifications: 1)),
        Case(name: "an endpoint that is down, then back", category: .service, metric: "http.up", subject: "shop",
             steps: [Step(minutesAgo: 2, value: 0, status: .failed), Step(minutesAgo: 0, value: 1)],
             expected: Expected(episodes: 1, state: "resolved", severity: "critical", notifications: 2)),
    ]

    @Test(arguments: cases)
    func thresholds(_ testCase: Case) async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let configuration = Configuration(alerts: AlertSettings(thresholds: testCase.rules))
            let evaluator = AlertEvaluator(configuration: configuration, logger: Harness.logger)
            let end = Date().addingTimeInterval(-60)
            for step in testCase.steps {
                let takenAt = end.addingTimeInterval(-step.minutesAgo * 60)
                let sample = HealthSample(testCase.category, testCase.subject, testCase.metric, value: step.value, status: step.status)
                let run = HealthRun(host: "h1", takenAt: takenAt, durationMs: 1, databaseMs: 0, samples: [sample])
                try await HealthStore.store(run, jobID: nil, on: connection)
                let evaluation = try await ThresholdEvaluator(rules: configuration.alerts.thresholds).evaluate(run, on: connection)
                _ = try await evaluator.apply(evaluation, now: takenAt, on: connection)
            }
            let rows = try await connection.query(
                "SELECT state, severity, notifications, first_seen_at, rule, subject, host, source FROM orchestrator.alerts ORDER BY id"
            ).rows
            var actual = Expected(episodes: rows.count)
            if let row = rows.last {
                actual.state = row["state"]
                actual.severity = row["severity"]
                actual.notifications = try row.decode("notifications")
                #expect(row["rule"] == testCase.metric && row["subject"] == testCase.subject && row["host"] == "h1" && row["source"] == "threshold")
                if testCase.expected.firstSeenMinutesAgo != nil {
                    let firstSeen: Date = try row.decode("first_seen_at")
                    actual.firstSeenMinutesAgo = (end.timeIntervalSince(firstSeen) / 60).rounded()
                }
            }
            #expect(actual == testCase.expected)
        }
    }
}
