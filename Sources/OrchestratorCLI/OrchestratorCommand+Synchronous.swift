import ArgumentParser

extension OrchestratorCommand {
    /// Commands PostgreSQL starts once per WAL file. They run right here on the main thread and
    /// exit: no hop to Swift's cooperative pool, whose threads a loaded host must first schedule
    /// (tens of milliseconds per file under load, measured in bench/wal/run).
    static let synchronousCommands: Set<String> = [
        WALPushCommand.configuration.commandName!, WALGetCommand.configuration.commandName!, WALPusherCommand.configuration.commandName!,
    ]

    /// Runs `arguments` to the end of the process if they name a synchronous command; returns
    /// otherwise. Parsing goes through the whole command tree, so help and errors read as usual.
    @MainActor
    static func runSynchronousCommand(_ arguments: [String]) {
        guard let first = arguments.first, synchronousCommands.contains(first) else { return }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            exit()
        } catch {
            exit(withError: error)
        }
    }
}
