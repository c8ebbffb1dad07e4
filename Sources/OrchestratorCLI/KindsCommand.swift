import ArgumentParser
import Kinds
import Runtime
import Support

struct KindsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kinds", abstract: "Job kinds this build runs, with their targets and arguments (type, range, default)."
    )

    @OptionGroup var global: GlobalOptions

    struct KindInfo: Encodable {
        let name: String
        let summary: String
        let target: String
        let arguments: [ArgumentInfo]
        let maxAttempts: Int
        let timeoutSeconds: Int
        let placement: String
        /// Claimed ahead of free slots (`worker.prefetch`).
        let short: Bool
    }

    /// One argument as its kind declares it; `default` is absent when not giving it has a
    /// meaning of its own (no `table`: every table).
    struct ArgumentInfo: Encodable {
        let name: String
        let type: String
        let usage: String
        var min: Int64?
        var max: Int64?
        var choices: [String]?
        var maxBytes: Int?
        let `default`: JSONValue?
        let summary: String

        init(_ spec: ArgumentSpec) {
            name = spec.name
            type = spec.typeName
            usage = spec.usage
            switch spec.type {
            case .integer(let range): (min, max) = (range.lowerBound, range.upperBound)
            case .choice(let allowed): choices = allowed
            case .text(let limit): maxBytes = limit
            case .boolean: break
            }
            `default` = spec.defaultValue
            summary = spec.summary
        }
    }

    func run() async throws {
        let kinds = JobKindRegistry.standard.kinds
        let infos = kinds.map { kind in
            let target: String
            switch kind.target {
            case .none: target = "none"
            case .required(let what): target = "required: \(what)"
            case .optional(let what): target = "optional: \(what)"
            }
            return KindInfo(
                name: kind.name, summary: kind.summary, target: target, arguments: kind.argumentSpecs.map(ArgumentInfo.init),
                maxAttempts: kind.defaultMaxAttempts, timeoutSeconds: kind.defaultTimeoutSeconds,
                placement: kind.placement == .host ? "host queue" : "shared queue", short: kind.isShort
            )
        }
        if global.json { return try Output.printJSON(infos) }
        for (info, kind) in zip(infos, kinds) {
            print("\(info.name) — \(info.summary)")
            print("  target: \(info.target)")
            if kind.argumentSpecs.isEmpty {
                print("  args: none")
            } else {
                print("  args:")
                for spec in kind.argumentSpecs { print("    \(spec.help)") }
            }
            print("  defaults: \(info.maxAttempts) attempts, \(info.timeoutSeconds)s timeout, \(info.placement)\(info.short ? ", short (claimed ahead)" : "")")
        }
    }
}
