import Foundation
@testable import Kinds
@testable import Runtime
import Support
import Testing

/// `orchestrator kinds` shows every argument with its type, range and default, as the kinds
/// declare them.
@Suite("Kinds command")
struct KindsCommandTests {
    @Test func theJSONShowsEachArgumentWithTypeRangeAndDefault() async throws {
        let result = try await CommandLineTests().run(["kinds", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let kinds = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        func argument(_ kind: String, _ name: String) throws -> [String: Any] {
            let entry = try #require(kinds.first { $0["name"] as? String == kind }, "\(kind)")
            let arguments = try #require(entry["arguments"] as? [[String: Any]])
            return try #require(arguments.first { $0["name"] as? String == name }, "\(kind).\(name)")
        }

        let lockTimeout = try argument("vacuum", "lock_timeout_ms")
        #expect(lockTimeout["type"] as? String == "integer")
        #expect(lockTimeout["min"] as? Int == 1 && lockTimeout["max"] as? Int == 600_000)
        #expect(lockTimeout["default"] as? Int == 5000)
        #expect(lockTimeout["summary"] as? String == "give up on a table whose lock is not granted in time")
        #expect(try argument("vacuum", "xid_age")["default"] as? Int == 150_000_000)
        #expect(try argument("reindex", "lock_timeout_ms")["default"] as? Int == 5000)
        #expect(try argument("noop", "ms")["default"] as? Int == 0)
        let dryRun = try argument("retention", "dry_run")
        #expect(dryRun["type"] as? String == "boolean" && dryRun["default"] as? Bool == false)
        let database = try argument("restore", "database")
        #expect(database["type"] as? String == "text" && database["max_bytes"] as? Int == 50)
        #expect(database["default"] == nil, "no default: without it nothing is restored into a database")

        // Every kind and argument the registry declares, with the default it declares.
        #expect(kinds.compactMap { $0["name"] as? String } == JobKindRegistry.standard.names)
        for kind in JobKindRegistry.standard.kinds {
            for spec in kind.argumentSpecs {
                let shown = try argument(kind.name, spec.name)
                #expect(shown["usage"] as? String == spec.usage)
                let value = try shown["default"].map { try JSONSerialization.data(withJSONObject: $0, options: .fragmentsAllowed) }
                #expect(try value.map { try JSONValue.parse(String(decoding: $0, as: UTF8.self)) } == spec.defaultValue, "\(kind.name).\(spec.name)")
            }
        }
    }

    @Test func theTableShowsTheSameLines() async throws {
        let result = try await CommandLineTests().run(["kinds"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("    lock_timeout_ms=INT (1...600000), default 5000: give up on a table whose lock is not granted in time\n"))
        #expect(result.stdout.contains("    table=TEXT (1...127 bytes): only this table (schema.table or table)\n"))
        #expect(result.stdout.contains("sql — run a named statement from the configuration's statements: section\n  target: required: the name of a statement in the configuration\n  args: none\n"))
        for kind in JobKindRegistry.standard.kinds {
            for spec in kind.argumentSpecs { #expect(result.stdout.contains("    \(spec.help)\n"), "\(kind.name).\(spec.name)") }
        }
    }
}
