import Foundation
@testable import Kinds
@testable import Queue
@testable import Runtime
import Settings
import Support
import Testing

/// Every kind's `Arguments`: what `--arg` text decodes to (defaults filled in), what it refuses,
/// and what a stored job (`jobs.args`) that no longer fits decodes to.
@Suite("Typed job arguments")
struct JobArgumentsTests {
    private static let registry = JobKindRegistry.standard

    @Test(arguments: [
        ([:], NoopJob.Arguments(ms: 0, fail: false, failAttempts: 0, permanent: false)),
        (["ms": "250", "fail": "yes"], NoopJob.Arguments(ms: 250, fail: true, failAttempts: 0, permanent: false)),
        (["fail_attempts": "2", "permanent": "on"], NoopJob.Arguments(ms: 0, fail: false, failAttempts: 2, permanent: true)),
        (["ms": " 86400000 "], NoopJob.Arguments(ms: 86_400_000, fail: false, failAttempts: 0, permanent: false)),
    ] as [([String: String], NoopJob.Arguments)])
    func noop(text: [String: String], expected: NoopJob.Arguments) throws {
        #expect(try NoopJob().parseArguments(text).decoded == expected)
    }

    @Test(arguments: [
        ([:], VacuumJob.Arguments(
            table: nil, analyze: false, freeze: false, full: false, auto: false, deadThreshold: 10_000, deadRatioPercent: 10,
            xidAge: 150_000_000, budgetSeconds: 900, lockTimeoutMs: 5000
        )),
        (["table": "public.trades", "full": "true", "analyze": "yes", "lock_timeout_ms": "200"], VacuumJob.Arguments(
            table: "public.trades", analyze: true, freeze: false, full: true, auto: false, deadThreshold: 10_000, deadRatioPercent: 10,
            xidAge: 150_000_000, budgetSeconds: 900, lockTimeoutMs: 200
        )),
        (["auto": "true", "dead_threshold": "0", "dead_ratio_percent": "100", "xid_age": "1000000", "budget_seconds": "86400", "freeze": "1"],
         VacuumJob.Arguments(
            table: nil, analyze: false, freeze: true, full: false, auto: true, deadThreshold: 0, deadRatioPercent: 100,
            xidAge: 1_000_000, budgetSeconds: 86_400, lockTimeoutMs: 5000
         )),
    ] as [([String: String], VacuumJob.Arguments)])
    func vacuum(text: [String: String], expected: VacuumJob.Arguments) throws {
        #expect(try VacuumJob().parseArguments(text).decoded == expected)
    }

    @Test(arguments: [
        ([:], AnalyzeJob.Arguments(table: nil, lockTimeoutMs: 5000)),
        (["table": "trades", "lock_timeout_ms": "600000"], AnalyzeJob.Arguments(table: "trades", lockTimeoutMs: 600_000)),
    ] as [([String: String], AnalyzeJob.Arguments)])
    func analyze(text: [String: String], expected: AnalyzeJob.Arguments) throws {
        #expect(try AnalyzeJob().parseArguments(text).decoded == expected)
    }

    @Test(arguments: [
        ([:], ReindexJob.Arguments(table: nil, index: nil, lockTimeoutMs: 5000)),
        (["table": "trades"], ReindexJob.Arguments(table: "trades", index: nil, lockTimeoutMs: 5000)),
        (["index": "public.trades_pkey", "lock_timeout_ms": "1"], ReindexJob.Arguments(table: nil, index: "public.trades_pkey", lockTimeoutMs: 1)),
    ] as [([String: String], ReindexJob.Arguments)])
    func reindex(text: [String: String], expected: ReindexJob.Arguments) throws {
        #expect(try ReindexJob().parseArguments(text).decoded == expected)
    }

    @Test(arguments: [
        (["database": "trading_copy"], RestoreJob.Arguments(
            database: "trading_copy", source: nil, replace: false, filesTo: nil, keepOwners: false, profile: nil
        )),
        (["files_to": "/srv/restore", "profile": "daily"], RestoreJob.Arguments(
            database: nil, source: nil, replace: false, filesTo: "/srv/restore", keepOwners: false, profile: "daily"
        )),
        (["database": "trading", "source": "trading_agent", "replace": "true", "keep_owners": "true", "files_to": "/srv/r"], RestoreJob.Arguments(
            database: "trading", source: "trading_agent", replace: true, filesTo: "/srv/r", keepOwners: true, profile: nil
        )),
    ] as [([String: String], RestoreJob.Arguments)])
    func restore(text: [String: String], expected: RestoreJob.Arguments) throws {
        #expect(try RestoreJob().parseArguments(text).decoded == expected)
    }

    /// `orchestrator backups restore` names its options as the restore kind declares them.
    @Test func backupsRestoreAsksWithTheDeclaredNames() throws {
        let request = RestoreJob.request(
            backup: "latest", database: "copy", source: "trading", filesTo: "/srv/r", replace: true, keepOwners: false, enqueuedBy: "tests"
        )
        #expect(request.kind == "restore" && request.target == "latest")
        #expect(request.arguments == ["database": "copy", "source": "trading", "files_to": "/srv/r", "replace": "true"])
        #expect(try RestoreJob().parseArguments(request.arguments).decoded == RestoreJob.Arguments(
            database: "copy", source: "trading", replace: true, filesTo: "/srv/r", keepOwners: false, profile: nil
        ))
        let filesOnly = RestoreJob.request(backup: "7", database: nil, source: nil, filesTo: "/srv/r", replace: false, keepOwners: true, enqueuedBy: "tests")
        #expect(filesOnly.arguments == ["files_to": "/srv/r", "keep_owners": "true"])
    }

    @Test func restoreDrillAndTheDryRunKinds() throws {
        #expect(try RestoreDrillJob().parseArguments([:]).decoded == RestoreDrillJob.Arguments(profile: nil))
        #expect(try RestoreDrillJob().parseArguments(["profile": "daily"]).decoded == RestoreDrillJob.Arguments(profile: "daily"))
        for (text, dryRun) in [([String: String](), false), (["dry_run": "true"], true), (["dry_run": "off"], false)] {
            #expect(try PruneBackupsJob().parseArguments(text).decoded == PruneBackupsJob.Arguments(dryRun: dryRun))
            #expect(try RetentionJob().parseArguments(text).decoded == RetentionJob.Arguments(dryRun: dryRun))
            #expect(try FileRetentionJob().parseArguments(text).decoded == FileRetentionJob.Arguments(dryRun: dryRun))
        }
    }

    @Test(arguments: ["sql", "backup", "health", "check-alerts", "prune-history"])
    func kindsWithoutArgumentsRefuseAny(kind: String) throws {
        let kind = try #require(Self.registry.kind(named: kind))
        #expect(kind.argumentSpecs.isEmpty)
        #expect(try kind.parseArguments([:]).stored.isEmpty)
        #expect {
            _ = try kind.parseArguments(["dry_run": "true"])
        } throws: { error in
            (error as? JobValidationError)?.message == "\(kind.name) has no argument \"dry_run\"; valid: none"
        }
    }

    /// Command-line text: ranges, types, unknown names and the rules across arguments.
    @Test(arguments: [
        ("noop", ["ms": "-5"], "argument ms: -5 is out of range 0...86400000"),
        ("noop", ["fail_attempts": "101"], "argument fail_attempts: 101 is out of range 0...100"),
        ("noop", ["permanent": "maybe"], "argument permanent: \"maybe\" is not a boolean (expected true or false)"),
        ("vacuum", ["lock_timeout_ms": "0"], "argument lock_timeout_ms: 0 is out of range 1...600000"),
        ("vacuum", ["xid_age": "999999"], "argument xid_age: 999999 is out of range 1000000...2000000000"),
        ("vacuum", ["dead_ratio_percent": "101"], "argument dead_ratio_percent: 101 is out of range 0...100"),
        ("vacuum", ["budget_seconds": "0"], "argument budget_seconds: 0 is out of range 1...86400"),
        ("vacuum", ["dead_threshold": "2147483648"], "argument dead_threshold: 2147483648 is out of range 0...2147483647"),
        ("vacuum", ["table": String(repeating: "t", count: 128)], "argument table: must be 1 to 127 printable bytes"),
        ("analyze", ["full": "true"], "analyze has no argument \"full\"; valid: table=TEXT, lock_timeout_ms=INT (1...600000)"),
        ("reindex", ["table": "trades", "index": "trades_pkey"], "reindex takes table=T or index=I, not both"),
        ("reindex", ["lock_timeout_ms": "600001"], "argument lock_timeout_ms: 600001 is out of range 1...600000"),
        ("restore", [:], "restore needs database=NAME, files_to=DIR, or both"),
        ("restore", ["replace": "true"], "restore needs database=NAME, files_to=DIR, or both"),
        ("restore", ["files_to": "srv/restore"], "files_to must be an absolute path without '..'"),
        ("restore", ["files_to": "/srv/../etc"], "files_to must be an absolute path without '..'"),
        ("restore", ["files_to": "/srv/restore", "source": "trading"], "restore takes source=NAME only with database=NAME"),
        ("restore", ["database": String(repeating: "d", count: 51)], "argument database: must be 1 to 50 printable bytes"),
        ("restore-drill", ["profile": ""], "argument profile: must be 1 to 63 printable bytes"),
        ("prune-backups", ["dry_run": "maybe"], "argument dry_run: \"maybe\" is not a boolean (expected true or false)"),
        ("retention", ["dry-run": "true"], "retention has no argument \"dry-run\"; valid: dry_run=true|false"),
        ("file-retention", ["dry_run": ""], "argument dry_run: \"\" is not a boolean (expected true or false)"),
    ] as [(String, [String: String], String)])
    func badTextIsRefused(kind: String, text: [String: String], expected: String) throws {
        let kind = try #require(Self.registry.kind(named: kind))
        #expect {
            _ = try kind.parseArguments(text)
        } throws: { error in
            (error as? JobValidationError)?.message == expected
        }
    }

    /// What the worker decodes: a job stored by another version may hold any JSON.
    @Test(arguments: [
        ("noop", ["ms": .string("soon")], "argument ms: \"soon\" is not an integer"),
        ("noop", ["ms": .int(86_400_001)], "argument ms: 86400001 is out of range 0...86400000"),
        ("noop", ["ms": .double(1.5)], "argument ms: 1.5 is not an integer"),
        ("noop", ["colour": .string("red")], "noop has no argument \"colour\"; valid: ms=INT (0...86400000), fail=true|false, fail_attempts=INT (0...100), permanent=true|false"),
        ("vacuum", ["full": .int(1)], "argument full: 1 is not a boolean"),
        ("vacuum", ["table": .null], "argument table: null is not text"),
        ("reindex", ["table": .string("trades"), "index": .string("trades_pkey")], "reindex takes table=T or index=I, not both"),
        ("restore", ["database": .string("")], "argument database: must be 1 to 50 printable bytes"),
        ("restore", ["files_to": .string("/srv"), "source": .string("trading")], "restore takes source=NAME only with database=NAME"),
    ] as [(String, [String: JSONValue], String)])
    func storedArgumentsThatNoLongerFitAreRefusedByName(kind: String, stored: [String: JSONValue], expected: String) throws {
        let kind = try #require(Self.registry.kind(named: kind))
        #expect {
            _ = try kind.decodeArguments(stored)
        } throws: { error in
            (error as? JobValidationError)?.message == expected
        }
    }

    /// Only the arguments given are stored, in the JSON types of before: defaults are applied
    /// when decoding, so changing one never rewrites or misreads stored jobs.
    @Test func theStoredFormHoldsOnlyWhatWasGiven() throws {
        #expect(try VacuumJob().parseArguments(["full": "true", "lock_timeout_ms": "200"]).stored == ["full": .bool(true), "lock_timeout_ms": .int(200)])
        #expect(try VacuumJob().parseArguments([:]).stored == [:])
        #expect(try RestoreJob().parseArguments(["files_to": "/srv/r"]).stored == ["files_to": .string("/srv/r")])
    }

    /// Every default is one its own spec accepts, and every kind decodes with the defaults alone
    /// (restore needs a database or a directory), which also reads every declared field.
    @Test func everyDefaultFitsItsSpec() throws {
        for kind in Self.registry.kinds {
            for spec in kind.argumentSpecs {
                if let value = spec.defaultValue { #expect(throws: Never.self, "\(kind.name).\(spec.name)") { try spec.check(value) } }
            }
            let minimal: [String: String] = kind.name == "restore" ? ["files_to": "/srv/r"] : [:]
            #expect(throws: Never.self, "\(kind.name)") { try kind.parseArguments(minimal) }
        }
    }

    /// README lists the argument lines `orchestrator kinds` prints, kind by kind.
    @Test func theReadmeListsEveryArgumentAsKindsPrintsIt() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let expected = Self.registry.kinds.filter { !$0.argumentSpecs.isEmpty }.map { kind in
            ([kind.name] + kind.argumentSpecs.map { "  " + $0.help }).joined(separator: "\n")
        }.joined(separator: "\n")
        #expect(text.contains("```text\n" + expected + "\n```\n"), "README's job arguments differ from `orchestrator kinds`:\n\(expected)")
    }

    @Test func anArgumentReadButNotDeclaredIsAnError() throws {
        let values = try ArgumentValues([:], specs: [], kind: "noop")
        #expect {
            _ = try values[JobArgument.boolean("stray", default: false, "not declared")]
        } throws: { error in
            (error as? JobValidationError)?.message == "argument stray is read but not among the kind's declared arguments"
        }
    }

    @Test func concurrencyKeysComeFromTheTypedArguments() throws {
        let configuration = Configuration(databases: ["trading": TargetDatabase(dbname: "trading_agent")])
        let full = try VacuumJob().validate(target: "trading", arguments: VacuumJob().parseArguments(["full": "true"]).decoded, configuration: configuration)
        #expect(full == "db:trading_agent")
        #expect(try VacuumJob().validate(target: "trading", arguments: VacuumJob().parseArguments([:]).decoded, configuration: configuration) == nil)
        let restore = try RestoreJob().validate(target: "latest", arguments: RestoreJob().parseArguments(["database": "copy"]).decoded, configuration: configuration)
        #expect(restore == "db:copy")
    }
}
