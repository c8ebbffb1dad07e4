@testable import Database
import Foundation
@testable import Kinds
@testable import Settings
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    private func errors(_ yaml: String) -> [String] {
        do {
            let configuration = try Configuration.parse(yaml: yaml)
            return configuration.validate(registry: .standard).map(\.description)
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func aFullConfigurationDecodesWithDefaultsFilledIn() throws {
        let configuration = try Configuration.parse(yaml: """
            worker:
              concurrency: 4
            databases:
              trading: {dbname: trading_agent}
            statements:
              stats: {database: trading, sql: "ANALYZE"}
            schedules:
              - name: nightly
                cron: "0 2 * * *"
                time_zone: Europe/Berlin
                kind: sql
                target: stats
              - name: weekly-noop
                cron: "0 3 * * SUN"
                kind: noop
                args: {ms: 5}
            """)
        #expect(configuration.worker.concurrency == 4)
        #expect(configuration.worker.leaseSeconds == 60)
        #expect(configuration.database.urlEnv == "ORCHESTRATOR_DATABASE_URL")
        #expect(configuration.schedules[1].args == ["ms": "5"])
        #expect(configuration.schedules[1].timeZone == "UTC")
        #expect(configuration.validate(registry: .standard).isEmpty)
    }

    @Test func anEmptyFileMeansDefaults() throws {
        let configuration = try Configuration.parse(yaml: "# nothing here\n")
        #expect(configuration.worker == WorkerSettings())
    }

    @Test(arguments: [
        ("worker:\n  concurency: 4\n", "worker.concurency: unknown key; allowed: concurrency, queues"),
        ("databse:\n  url_env: X\n", "databse: unknown key"),
        ("worker:\n  concurrency: lots\n", "worker.concurrency: expected an integer"),
        ("database:\n  url: postgresql://u:secret@h/db\n", "database.url: unknown key; allowed: url_env, url_file"),
        ("schedules:\n  - name: a\n    cron: \"0 2 * * *\"\n    kind: noop\n  - name: b\n    cron: \"0 25 * * *\"\n    kind: noop\n", "schedules[1].cron: hour: 25 is out of range 0-23"),
        ("schedules:\n  - name: a\n    cron: \"0 2 * * *\"\n    kind: backupz\n", "schedules[0]: unknown job kind \"backupz\"; valid kinds: analyze, backup, base-backup, check-alerts, copy-backup, file-retention, health, noop, pitr-drill, prune-backups, prune-history, reindex, restore, restore-drill, retention, sql, vacuum"),
        ("schedules:\n  - name: a\n    cron: \"0 2 * * *\"\n    time_zone: Mars/Olympus\n    kind: noop\n", "schedules[0].time_zone: unknown time zone"),
        ("schedules:\n  - name: a\n    cron: \"0 2 * * *\"\n    kind: noop\n    args: {ms: fast}\n", "schedules[0]: argument ms: \"fast\" is not an integer"),
        ("schedules:\n  - name: a\n    kind: noop\n", "schedules[0].cron: required key is missing"),
        ("databases:\n  \"Bad;Name\": {dbname: x}\n", "databases.Bad;Name: name must be lower-case"),
        ("statements:\n  s: {database: nowhere, sql: SELECT 1}\n", "statements.s.database: \"nowhere\" is not under databases:"),
        ("worker:\n  lease_seconds: 10\n  heartbeat_seconds: 9\n", "worker.heartbeat_seconds: must be at least 1 and at most half of lease_seconds"),
        ("kinds:\n  nope: {max_attempts: 2}\n", "kinds.nope: unknown job kind"),
    ])
    func mistakesAreReportedWithTheirPath(yaml: String, expected: String) {
        let found = errors(yaml)
        #expect(found.contains { $0.hasPrefix(expected) }, "got \(found)")
    }

    @Test(arguments: [
        // Repeated keys: Yams refuses them; the first one is located.
        ("worker:\n  concurrency: 2\n  concurrency: 4\n", "line 2, column 3: key \"concurrency\" appears more than once"),
        ("worker: {}\nschedules: []\nworker: {}\n", "line 1, column 1: key \"worker\" appears more than once"),
        ("schedules:\n  - name: a\n    name: b\n", "line 2, column 5: key \"name\" appears more than once"),
        ("worker:\n\tconcurrency: 2\n", "line 2, column 1: not valid YAML: found character that cannot start any token"),
        ("schedules:\n  - name: \"a\n", "line 3, column 1: not valid YAML: found unexpected end of stream (while scanning a quoted scalar at line 2, column 11)"),
        ("worker:\n  queues: [a, b\n", "line 3, column 1: not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 11)"),
        ("worker:\n  concurrency: 2\n queues: [a]\n", "line 3, column 2: not valid YAML: did not find expected key"),
        ("worker:\n  queues: [a\u{1}]\n", "line 2, column 13: not readable as YAML text: control characters are not allowed"),
    ])
    func yamlSyntaxErrorsNameLineAndColumn(yaml: String, expected: String) {
        let found = errors(yaml)
        #expect(found.count == 1 && found[0].hasPrefix(expected), "got \(found)")
    }

    @Test func aFileWithASyntaxErrorIsNamedWithTheLine() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("dup-\(UUID().uuidString).yaml")
        try "worker:\n  concurrency: 2\nworker:\n  concurrency: 3\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect {
            _ = try Configuration.load(path: file.path)
        } throws: { error in
            "\(error)" == "invalid configuration \(file.path):\n  line 1, column 1: key \"worker\" appears more than once in the same mapping; keep one"
        }
    }

    @Test func secretsAreNeverReadFromTheFileItself() throws {
        let settings = DatabaseSettings(urlEnv: "ORCH_TEST_URL")
        let connector = try DatabaseConnector(settings: settings, environment: ["ORCH_TEST_URL": "postgresql://app:hunter2@db.example/orchestrator"])
        #expect(connector.orchestrator.description == "db.example/orchestrator user=app")
        #expect(!connector.orchestrator.description.contains("hunter2"))
    }
}
