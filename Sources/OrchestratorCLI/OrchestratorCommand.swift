import ArgumentParser
public struct OrchestratorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "orchestrator")
    public init() {}
}
