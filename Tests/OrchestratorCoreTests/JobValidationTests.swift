@testable import OrchestratorCore
import Testing

@Suite("Enqueue-time validation")
struct JobValidationTests {
    let configuration = Configuration(
        databases: ["trading": TargetDatabase(dbname: "trading_agent")],
        statements: ["stats": NamedStatement(database: "trading", sql: "ANALYZE")]
    )

    private func prepare(_ kind: String, _ target: String? = nil, _ arguments: [String: String] = [:], queue: String? = nil) throws(JobValidationError) -> PreparedJob {
        try JobKindRegistry.standard.prepare(
            JobRequest(kind: kind, target: target, arguments: arguments, queue: queue, enqueuedBy: "tests"),
            configuration: configuration, hostName: "nuc"
        )
    }

    @Test func validRequestsAreFilledIn() throws {
        let noop = try prepare("noop", nil, ["ms": "250", "fail": "no"])
        #expect(noop.arguments == ["ms": .int(250), "fail": .bool(false)])
        #expect(noop.queue == "default")
        #expect(noop.maxAttempts == 3)
        let sql = try prepare("sql", "stats")
        #expect(sql.concurrencyKey == "db:trading_agent")
    }

    @Test(arguments: [
        ("backup-everything", nil, [:], "unknown job kind \"backup-everything\"; valid kinds: analyze, backup, check-alerts, file-retention, health, noop, prune-backups, prune-history, reindex, restore, restore-drill, retention, sql, vacuum"),
        ("noop", nil, ["ms": "-5"], "argument ms: -5 is out of range 0...86400000"),
        ("noop", nil, ["ms": "1e9"], "argument ms: \"1e9\" is not an integer"),
        ("noop", nil, ["colour": "red"], "noop has no argument \"colour\"; valid: ms=INT"),
        ("noop", nil, ["fail": "maybe"], "argument fail: \"maybe\" is not a boolean"),
        ("sql", nil, [:], "sql needs a target"),
        ("sql", "stats; DROP TABLE trades", [:], "unknown statement \"stats; DROP TABLE trades\"; configured statements: stats"),
        ("sql", "x\u{0}y", [:], "target must be 1 to 200 printable characters"),
    ] as [(String, String?, [String: String], String)])
    func badRequestsAreRejectedWithTheValidChoices(kind: String, target: String?, arguments: [String: String], expected: String) {
        #expect {
            _ = try prepare(kind, target, arguments)
        } throws: { error in
            (error as? JobValidationError)?.message.hasPrefix(expected) == true
        }
    }

    @Test func hostileQueueNamesAreRejected() {
        #expect(throws: JobValidationError.self) { try prepare("noop", queue: "default'; DROP TABLE x; --") }
        #expect(throws: JobValidationError.self) { try prepare("noop", queue: "") }
        #expect(throws: Never.self) { try prepare("noop", queue: "host:nuc-01") }
    }

    @Test func argumentPairsNeedAnEqualsSign() throws {
        #expect(try JobRequest.parseArguments(["ms=5", "label=a=b"]) == ["ms": "5", "label": "a=b"])
        #expect(throws: JobValidationError.self) { try JobRequest.parseArguments(["ms"]) }
        #expect(throws: JobValidationError.self) { try JobRequest.parseArguments(["=5"]) }
        #expect(throws: JobValidationError.self) { try JobRequest.parseArguments(["ms=1", "ms=2"]) }
    }
}
