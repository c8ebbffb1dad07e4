import Foundation
@testable import Kinds
@testable import Settings
import TestSupport
import Testing

/// `alerts.thresholds`, `repeat_minutes`, `channels_for` and `builtin`: decoding, defaults, rule
/// matching and errors with their paths.
@Suite("Alert rule configuration")
struct AlertRuleConfigurationTests {
    private func errors(_ yaml: String) -> [String] {
        do {
            return try Configuration.parse(yaml: yaml).validate(registry: .standard).map(\.description)
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func rulesRoutingAndBuiltinsDecode() throws {
        let configuration = try Configuration.parse(yaml: """
            alerts:
              channels:
                tg: {type: telegram, bot_token_env: T, chat_id: "1"}
                mail: {type: email, smtp_url: "smtp://localhost", from: a@example.org, to: [b@example.org]}
              repeat_minutes: 60
              channels_for: {warning: [tg], critical: [tg, mail]}
              thresholds:
                - {metric: disk.used_percent, subject: /var/backups, warning: 80, critical: 95, for: 10m}
                - {metric: check.value, subject: trades-24h, below: true, critical: 1}
                - {metric: temperature.celsius, enabled: false}
                - {metric: cpu.usage_percent, warning: 70, critical: 90, for: 1h30m}
              builtin:
                job_failed: {severity: critical, window_hours: 12}
                worker_heartbeat: {after_minutes: 5}
                drill_stale: {enabled: false}
            """)
        #expect(configuration.validate(registry: .standard).isEmpty)
        let alerts = configuration.alerts
        #expect(alerts.repeatMinutes == 60)
        #expect(alerts.channelNames(for: .warning) == ["tg"])
        #expect(alerts.channelNames(for: .critical) == ["tg", "mail"])
        #expect(alerts.thresholds[0] == ThresholdRule(metric: "disk.used_percent", subject: "/var/backups", warning: 80, critical: 95, forSeconds: 600))
        #expect(alerts.thresholds[1] == ThresholdRule(metric: "check.value", subject: "trades-24h", critical: 1, below: true))
        #expect(alerts.thresholds[3].forSeconds == 5400)
        #expect(alerts.builtin.jobFailed == BuiltinAlertRule(severity: .critical, limit: 12))
        #expect(alerts.builtin.workerHeartbeat == BuiltinAlertRule(severity: .critical, limit: 5))
        #expect(alerts.builtin.drillStale == BuiltinAlertRule(enabled: false, severity: .warning))
        #expect(alerts.builtin.scheduleOverdue == BuiltinAlertRule(severity: .warning, limit: 15))

        let list = try Configuration.parse(yaml: "alerts:\n  channels: {tg: {type: telegram, bot_token_env: T, chat_id: \"1\"}}\n  channels_for: [tg]\n")
        #expect(list.alerts.channelNames(for: .warning) == ["tg"] && list.alerts.channelNames(for: .critical) == ["tg"])
        #expect(Configuration().alerts.repeatMinutes == 240)
        #expect(Configuration().alerts.channelNames(for: .critical).isEmpty)
    }

    @Test func configuredRulesWinForTheirSubjectsAndDefaultsCoverTheRest() throws {
        let rules = try Configuration.parse(yaml: """
            alerts:
              thresholds:
                - {metric: disk.used_percent, subject: "/var/*", warning: 80}
                - {metric: temperature.celsius, enabled: false}
                - {metric: pg.table.dead_percent, subject: "trading/public.*", warning: 20}
            """).alerts.thresholds
        #expect(rules.rule(metric: "disk.used_percent", subject: "/var/backups")?.warning == 80)
        #expect(rules.rule(metric: "disk.used_percent", subject: "/")?.warning == 90)  // the default
        #expect(rules.rule(metric: "disk.used_percent", subject: "/")?.critical == 95)
        #expect(rules.rule(metric: "temperature.celsius", subject: "host") == nil)
        #expect(rules.rule(metric: "cpu.usage_percent", subject: "host") == ThresholdRule(metric: "cpu.usage_percent", warning: 80, critical: 95, forSeconds: 300))
        #expect(rules.rule(metric: "memory.used_percent", subject: "host")?.warning == 85)
        #expect(rules.rule(metric: "pg.table.dead_percent", subject: "trading/public.trades")?.warning == 20)
        #expect(rules.rule(metric: "pg.table.dead_percent", subject: "other/public.trades") == nil)
        #expect(rules.rule(metric: "load.1m", subject: "host") == nil)
        #expect(rules.rule(metric: "systemd.active", subject: "postgresql")?.severity(of: 0)?.0 == .critical)
        #expect(rules.rule(metric: "systemd.active", subject: "postgresql")?.severity(of: 1) == nil)
    }

    @Test(arguments: [
        (80.0, nil as AlertSeverity?), (80.5, .warning), (94.9, .warning), (95.0, .warning), (95.1, .critical),
    ])
    func levelsAreStrictlyCrossed(value: Double, expected: AlertSeverity?) {
        let rule = ThresholdRule(metric: "cpu.usage_percent", warning: 80, critical: 95)
        #expect(rule.severity(of: value)?.0 == expected)
    }

    @Test func globsAndDurations() {
        #expect(ThresholdRule.glob("/var/*", "/var/lib/postgresql"))
        #expect(ThresholdRule.glob("trading/?ublic.*", "trading/public.trades"))
        #expect(!ThresholdRule.glob("/var/*", "/"))
        #expect(ThresholdRule.glob("*", ""))
        #expect(DurationText.parse("90s") == 90 && DurationText.parse("10m") == 600 && DurationText.parse("1h30m") == 5400)
        #expect(DurationText.parse("2d") == 172_800)
        #expect(DurationText.parse("10") == nil && DurationText.parse("m") == nil && DurationText.parse("5 min") == nil)
    }

    @Test func mistakesAreErrorsNamingTheirPath() {
        #expect(errors("alerts:\n  thresholds:\n    - {metric: cpu.usage, warning: 80}\n").first?
            .hasPrefix("alerts.thresholds[0].metric: unknown metric \"cpu.usage\"; metrics: ") == true)
        #expect(errors("alerts:\n  thresholds:\n    - {metric: cpu.usage_percent, warn: 80}\n").first?
            .hasPrefix("alerts.thresholds[0].warn: unknown key; allowed: metric, subject, warning, critical, below, for, enabled") == true)
        #expect(errors("alerts:\n  thresholds:\n    - {metric: cpu.usage_percent, warning: 80, for: soon}\n") == [
            "alerts.thresholds[0].for: expected a duration such as 90s, 10m, 2h or 1h30m, got \"soon\"",
        ])
        #expect(errors("""
            alerts:
              repeat_minutes: -1
              channels_for: {critical: [nope]}
              thresholds:
                - {metric: memory.used_percent}
                - {metric: disk.used_percent, warning: 95, critical: 90}
                - {metric: check.value, below: true, warning: 1, critical: 5}
              builtin:
                worker_heartbeat: {after_minutes: 0}
            """) == [
            "alerts.repeat_minutes: must be 0...10080 (0: never repeat), got -1",
            "alerts.channels_for.critical[0]: unknown channel \"nope\": no channels are configured under alerts.channels",
            "alerts.thresholds[0]: set warning, critical or both (or enabled: false to silence the metric)",
            "alerts.thresholds[1].critical: must be above warning (95.0)",
            "alerts.thresholds[2].critical: must be below warning (1.0) when below: true",
            "alerts.builtin.worker_heartbeat.after_minutes: must be 1...1440, got 0",
        ])
        #expect(errors("alerts:\n  builtin:\n    job_failed: {severity: loud}\n") == [
            "alerts.builtin.job_failed.severity: must be warning or critical, got \"loud\"",
        ])
        #expect(errors("alerts:\n  builtin:\n    job_failed: {after_minutes: 3}\n") == [
            "alerts.builtin.job_failed.after_minutes: unknown key; allowed: enabled, severity, window_hours",
        ])
        #expect(errors("alerts:\n  builtins: {}\n").first?.hasPrefix("alerts.builtins: unknown key; allowed: channels, thresholds") == true)
    }

    @Test func theExampleConfigurationIsValid() throws {
        let text = try String(contentsOf: Harness.repositoryRoot.appendingPathComponent("config/orchestrator.yaml"), encoding: .utf8)
        let configuration = try Configuration.parse(yaml: text)
        #expect(configuration.validate(registry: .standard).map(\.description) == [])
        #expect(configuration.schedules.contains { $0.kind == "check-alerts" })
    }

    @Test func everyMetricTheSamplersRecordIsInTheCatalog() async throws {
        // Every kind of check configured, so their metrics are recorded too.
        let server = try LocalHTTPServer(responses: [.init(status: 200)])
        defer { server.stop() }
        let health = HealthSettings(
            tcp: ["web": TCPCheck(host: "127.0.0.1", port: server.port)],
            http: ["web": HTTPCheck(url: server.baseURL + "/", timeoutMs: 2000)],
            sql: ["one": SQLCheck(database: "app", sql: "SELECT 1")], cpuIntervalMs: 100
        )
        try await HealthPostgresTests.withApp(health: health) { harness, connection in
            let run = try await HealthPostgresTests.sampler(harness).sample(orchestrator: connection)
            let unknown = Set(run.samples.map(\.metric)).subtracting(HealthMetricCatalog.names)
            #expect(unknown.isEmpty, "metrics missing from HealthMetricCatalog: \(unknown.sorted())")
            #expect(run.samples.count > 10)
            #expect(Set(run.samples.map(\.metric)).isSuperset(of: ["tcp.up", "tcp.connect_ms", "http.up", "http.status", "http.response_ms", "check.value"]))
        }
    }
}
