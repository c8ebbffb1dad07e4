import Foundation
import Testing

/// The layering is only as good as its declarations: SwiftPM lets a file import a module its
/// target reaches transitively without declaring it, so a shortcut across layers would compile.
/// These tests hold every target to the dependencies `Package.swift` declares for it, and the
/// module graph in docs/architecture.md to `Package.swift`.
@Suite("Module graph")
struct ModuleGraphTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Target name -> the project targets it declares as dependencies.
    static func declaredTargets() throws -> [String: Set<String>] {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        var result: [String: Set<String>] = [:]
        let target = /\.(?:target|executableTarget)\(\s*name:\s*"(\w+)"(?:,\s*dependencies:\s*\[([^\]]*)\])?/
        for match in manifest.matches(of: target) {
            // Products of other packages are not project targets.
            let list = (match.output.2.map(String.init) ?? "").replacing(/\.product\([^)]*\)/, with: "")
            let names = list.matches(of: /"(\w+)"/).map { String($0.output.1) }
            result[String(match.output.1)] = Set(names)
        }
        return result
    }

    static func imports(of target: String) throws -> Set<String> {
        let directory = root.appendingPathComponent("Sources/\(target)")
        var found: Set<String> = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".swift") {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            for match in text.matches(of: /(?m)^(?:@\w+\s+)*import\s+(\w+)/) { found.insert(String(match.output.1)) }
        }
        return found
    }

    @Test func everyTargetImportsOnlyTheProjectTargetsItDeclares() throws {
        let declared = try Self.declaredTargets()
        let projectTargets = Set(declared.keys)
        #expect(projectTargets.isSuperset(of: ["Support", "Settings", "Queue", "Runtime", "Kinds", "OrchestratorCLI"]))
        for (target, dependencies) in declared.sorted(by: { $0.key < $1.key }) {
            let sources = Self.root.appendingPathComponent("Sources/\(target)")
            guard FileManager.default.fileExists(atPath: sources.path) else { continue }  // test targets, C modules
            let used = try Self.imports(of: target).intersection(projectTargets)
            #expect(used.subtracting(dependencies).isEmpty, "\(target) imports \(used.subtracting(dependencies).sorted()) without declaring them")
        }
    }

    @Test func noDomainTargetKnowsTheWorkerOrTheKinds() throws {
        let declared = try Self.declaredTargets()
        let domain = ["Support", "Cron", "Settings", "Database", "Queue", "Scheduling", "Maintenance", "Backups", "Health", "Alerts", "History"]
        for target in domain {
            let reach = Self.closure(of: target, in: declared)
            #expect(reach.isDisjoint(with: ["Runtime", "Kinds", "OrchestratorCLI"]), "\(target) reaches \(reach.intersection(["Runtime", "Kinds", "OrchestratorCLI"]).sorted())")
        }
        #expect(!Self.closure(of: "Runtime", in: declared).contains("Kinds"))
    }

    @Test func theArchitectureDocumentNamesEveryTarget() throws {
        let document = try String(contentsOf: Self.root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        for target in try Self.declaredTargets().keys where FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("Sources/\(target)").path) {
            #expect(document.contains(target), "docs/architecture.md does not mention target \(target)")
        }
    }

    static func closure(of target: String, in graph: [String: Set<String>]) -> Set<String> {
        var seen: Set<String> = []
        var pending = Array(graph[target] ?? [])
        while let next = pending.popLast() {
            guard seen.insert(next).inserted else { continue }
            pending += graph[next] ?? []
        }
        return seen
    }
}
