import Foundation
@testable import Kinds
@testable import Settings
import Testing

@Suite("Health configuration")
struct HealthConfigurationTests {
    private func errors(_ yaml: String) -> [String] {
        do {
            return try Configuration.parse(yaml: yaml).validate(registry: .standard).map(\.description)
        } catch {
            return error.errors.map(\.description)
        }
    }

    private let databases = "databases:\n  trading: {dbname: trading_agent}\n  reports: {dbname: reports}\n"

    @Test func aHealthSectionDecodesWithDefaultsFilledIn() throws {
        let configuration = try Configuration.parse(yaml: databases + """
            health:
              mounts: [/, /var/backups]
              systemd_units: [postgresql, trading-agent.service, "getty@tty1.service"]
              tcp:
                postgres: {host: 127.0.0.1, port: 5432}
              http:
                api: {url: "https://trading.example/health", expect_status: 204}
              sql:
                trades-24h:
                  database: trading
                  sql: SELECT count(*) FROM trades WHERE created_at > now() - interval '24 hours'
                  unit: rows
              keep_raw_days: 7
            schedules:
              - {name: health, cron: "*/5 * * * *", kind: health}
            """)
        let health = configuration.health
        #expect(health.mounts == ["/", "/var/backups"])
        #expect(health.tcp["postgres"] == TCPCheck(host: "127.0.0.1", port: 5432, timeoutMs: 2000))
        #expect(health.http["api"] == HTTPCheck(url: "https://trading.example/health", expectStatus: 204, timeoutMs: 5000))
        #expect(health.sql["trades-24h"]?.timeoutSeconds == 5)
        #expect(health.keepRawDays == 7)
        #expect(health.keepDailyDays == 400)
        #expect(health.deadTuplesTop == 5)
        #expect(health.sampledDatabases(in: configuration) == ["reports", "trading"])  // default: all
        #expect(configuration.validate(registry: .standard).isEmpty)
    }

    @Test func withoutAHealthSectionTheRootFileSystemIsSampled() throws {
        let configuration = try Configuration.parse(yaml: databases)
        #expect(configuration.health == HealthSettings())
        #expect(configuration.health.mounts == ["/"])
        #expect(configuration.health.sampledDatabases(in: configuration) == ["reports", "trading"])
        var only = configuration
        only.health.databases = ["trading"]
        #expect(only.health.sampledDatabases(in: only) == ["trading"])
    }

    @Test(arguments: [
        ("health:\n  mount: [/]\n", "health.mount: unknown key; allowed: mounts, databases, systemd_units"),
        ("health:\n  tcp:\n    pg: {host: localhost, prot: 5432}\n", "health.tcp.pg.prot: unknown key; allowed: host, port, timeout_ms"),
        ("health:\n  tcp:\n    pg: {host: localhost}\n", "health.tcp.pg.port: required key is missing"),
        ("health:\n  keep_raw_days: 0\n", "health.keep_raw_days: must be 1...3650, got 0"),
        ("health:\n  dead_tuples_top: lots\n", "health.dead_tuples_top: expected an integer"),
        ("health:\n  mounts: [var/lib]\n", "health.mounts[0]: must be an absolute path"),
        ("health:\n  mounts: [/var/../etc]\n", "health.mounts[0]: must be an absolute path without '..'"),
        ("health:\n  databases: [nope]\n", "health.databases[0]: \"nope\" is not under databases:"),
        ("health:\n  databases: [\"trading; DROP TABLE x\"]\n", "health.databases[0]: \"trading; DROP TABLE x\" is not under databases:"),
        ("health:\n  sql:\n    \"Bad;Name\": {database: trading, sql: SELECT 1}\n", "health.sql.Bad;Name: name must be lower-case"),
        ("health:\n  sql:\n    c: {database: \"x; DROP DATABASE y\", sql: SELECT 1}\n", "health.sql.c.database: \"x; DROP DATABASE y\" is not under databases:"),
        ("health:\n  sql:\n    c: {database: trading, sql: \"  \"}\n", "health.sql.c.sql: must not be empty"),
        ("health:\n  sql:\n    c: {database: trading, sql: SELECT 1, timeout_seconds: 0}\n", "health.sql.c.timeout_seconds: must be 1...300"),
        ("health:\n  systemd_units: [\"--root=/tmp\"]\n", "health.systemd_units[0]: \"--root=/tmp\" is not a systemd unit name"),
        ("health:\n  systemd_units: [\"a; rm -rf /\"]\n", "health.systemd_units[0]: \"a; rm -rf /\" is not a systemd unit name"),
        ("health:\n  tcp:\n    pg: {host: \"-oProxyCommand=x\", port: 5432}\n", "health.tcp.pg.host: \"-oProxyCommand=x\" is not a host name"),
        ("health:\n  tcp:\n    pg: {host: localhost, port: 70000}\n", "health.tcp.pg.port: must be 1...65535, got 70000"),
        ("health:\n  tcp:\n    \"../x\": {host: localhost, port: 1}\n", "health.tcp.../x: name must be lower-case"),
        ("health:\n  http:\n    api: {url: \"https://user:secret@example.com/\"}\n", "health.http.api.url: must be an http:// or https:// URL"),
        ("health:\n  http:\n    api: {url: \"file:///etc/passwd\"}\n", "health.http.api.url: must be an http:// or https:// URL"),
        ("health:\n  http:\n    api: {url: \"http://x/\", expect_status: 42}\n", "health.http.api.expect_status: must be an HTTP status 100...599"),
        ("health:\n  statement_timeout_ms: 5\n", "health.statement_timeout_ms: must be 100...60000, got 5"),
        ("schedules:\n  - {name: h, cron: \"* * * * *\", kind: health, target: app}\n", "schedules[0]: health takes no target"),
    ])
    func mistakesAreReportedWithTheirPath(yaml: String, expected: String) {
        let found = errors(databases + yaml)
        #expect(found.contains { $0.hasPrefix(expected) }, "got \(found)")
    }

    @Test func theExampleConfigurationIsValid() throws {
        let text = try String(contentsOf: Harness.repositoryRoot.appendingPathComponent("config/orchestrator.yaml"), encoding: .utf8)
        let configuration = try Configuration.parse(yaml: text)
        #expect(configuration.validate(registry: .standard).map(\.description) == [])
        #expect(configuration.schedules.contains { $0.kind == "health" })
        #expect(!configuration.health.sql.isEmpty)
        #expect(configuration.health.http["trading-api"] == HTTPCheck(url: "http://127.0.0.1:8080/health"))
    }
}
