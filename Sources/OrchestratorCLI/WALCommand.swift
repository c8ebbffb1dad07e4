import ArgumentParser

/// `orchestrator wal ...`: commands about the WAL archive that people run (PostgreSQL's own
/// archive and restore commands are `wal-push` and `wal-get`).
struct WALCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal",
        abstract: "Inspect the WAL archive.",
        subcommands: [WALStatusCommand.self]
    )
}
