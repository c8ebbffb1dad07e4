import ArgumentParser
import Kinds
import Runtime

struct KindsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kinds", abstract: "Job kinds this build runs, with their targets and arguments.")

    @OptionGroup var global: GlobalOptions

    struct KindInfo: Encodable {
        let name: String
        let summary: String
        let target: String
        let arguments: [String]
        let maxAttempts: Int
        let timeoutSeconds: Int
        let placement: String
        /// Claimed ahead of free slots (`worker.prefetch`).
        let short: Bool
    }

    func run() async throws {
        let infos = JobKindRegistry.standard.kinds.map { kind in
            let target: String
            switch kind.target {
            case .none: target = "none"
            case .required(let what): target = "required: \(what)"
            case .optional(let what): target = "optional: \(what)"
            }
            return KindInfo(
                name: kind.name, summary: kind.summary, target: target, arguments: kind.argumentSpecs.map(\.usage),
                maxAttempts: kind.defaultMaxAttempts, timeoutSeconds: kind.defaultTimeoutSeconds,
                placement: kind.placement == .host ? "host queue" : "shared queue", short: kind.isShort
            )
        }
        if global.json { return try Output.printJSON(infos) }
        for info in infos {
            print("\(info.name) — \(info.summary)")
            print("  target: \(info.target)")
            print("  args: \(info.arguments.isEmpty ? "none" : info.arguments.joined(separator: ", "))")
            print("  defaults: \(info.maxAttempts) attempts, \(info.timeoutSeconds)s timeout, \(info.placement)\(info.short ? ", short (claimed ahead)" : "")")
        }
    }
}
