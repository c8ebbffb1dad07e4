import ArgumentParser
@testable import OrchestratorCLI
import Testing

/// Every command states its name. Without one, the argument parser names a command after its
/// type (`String(describing:)`) on every start, which costs protocol conformance lookups across
/// the whole binary. `wal-push` pays every start once per WAL segment (measured with callgrind:
/// 30 M instructions fewer per push once all names were given).
@Suite("Command names")
struct CommandNameTests {
    @Test func everyCommandInTheTreeStatesItsName() {
        var unnamed: [String] = []
        func visit(_ command: any ParsableCommand.Type, under parent: String) {
            let name = command.configuration.commandName
            if name == nil { unnamed.append("\(parent) \(command)") }
            for subcommand in command.configuration.subcommands {
                visit(subcommand, under: "\(parent) \(name ?? "?")")
            }
        }
        visit(OrchestratorCommand.self, under: "")
        #expect(unnamed.isEmpty, "commands without commandName: \(unnamed)")
    }
}
