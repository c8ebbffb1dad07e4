@testable import Kinds
@testable import Queue
@testable import Runtime
@testable import Settings
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
        ("backup-everything", nil, [:], "unknown job kind \"backup-everything\"; valid kinds: analyze, backup, base-backup, check-alerts, copy-backup, file-retention, health, noop, pitr-drill, prune-backups, prune-history, reindex, restore, restore-drill, retention, sql, vacuum"),
        ("noop", nil, ["ms": "-5"], "argument ms: -5 is out of range 0...86400000"),
        ("noop", nil, ["ms": "1e9"], "argument ms: \"1e9\" is not an integer"),
        ("noop", nil, ["colour": "red"], "noop has no argument \"colour\"; valid: ms=INT"),
        ("noop", nil, ["fail": "maybe"], "argument fail: \"maybe\" is not a boolean"),
        ("sql", nil, [:], "sql needs a target"),
        ("sql", "stats; DROP TABLE trades", [:], "unknown statement \"stats; DROP TABLE trades\"; configured statements: stats"),
        ("sql", "x\u{0}y", [:], "target contains the invisible or control character U+0000"),
        // Bidi overrides and zero-width characters make a target read as another one.
        ("noop", "stats\u{202E}txt.exe", [:], "target contains the invisible or control character U+202E"),
        ("noop", "trad\u{200B}ing", [:], "target contains the invisible or control character U+200B"),
        ("noop", "a\u{2028}b", [:], "target contains the invisible or control character U+2028"),
        ("reindex", "trading", ["table": "trades\u{202E}"], "argument table: contains the invisible or control character U+202E"),
        ("noop", nil, ["ms\u{202E}": "5"], "argument name contains the invisible or control character U+202E"),
    ] as [(String, String?, [String: String], String)])
    func badRequestsAreRejectedWithTheValidChoices(kind: String, target: String?, arguments: [String: String], expected: String) {
        #expect {
            _ = try prepare(kind, target, arguments)
        } throws: { error in
            (error as? JobValidationError)?.message.hasPrefix(expected) == true
        }
    }

    @Test func uniqueKeysWithInvisibleCharactersAreRejected() throws {
        func prepare(uniqueKey: String) throws(JobValidationError) -> PreparedJob {
            try JobKindRegistry.standard.prepare(
                JobRequest(kind: "noop", uniqueKey: uniqueKey, enqueuedBy: "tests"), configuration: configuration, hostName: "nuc"
            )
        }
        for key in ["nightly\u{202E}", "night\u{200D}ly", "night\u{7}ly"] {
            #expect {
                _ = try prepare(uniqueKey: key)
            } throws: { error in
                (error as? JobValidationError)?.message.hasPrefix("unique key contains the invisible or control character U+") == true
            }
        }
        #expect(try prepare(uniqueKey: "nightly-é-日本").uniqueKey == "nightly-é-日本")
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
