import ArgumentParser
import Support

package struct OrchestratorCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "orchestrator",
        abstract: "PostgreSQL-backed maintenance orchestrator: a job queue, workers, schedules, and a record of every run.",
        discussion: """
            Exit codes: 0 success; 1 the job or operation failed (including an alert not delivered); 64 bad usage or input; 65 migrations refused \
            (edited or unknown migration); 69 database unreachable; 78 configuration error.

            Every command takes --config FILE, --json and --log-level LEVEL, before or after the command: \
            `orchestrator --config F status` and `orchestrator status --config F` are the same. \
            Exception: wal-push and wal-get (PostgreSQL's archive and restore commands) never read the main configuration \
            and have exit codes of their own (see their --help); `wal status` exits 1 when the archive has a gap and 74 when \
            the repository cannot be listed.
            """,
        version: OrchestratorVersion.current,
        subcommands: [
            MigrateCommand.self, EnqueueCommand.self, WorkerCommand.self, JobsCommand.self,
            SchedulesCommand.self, StatusCommand.self, HealthCommand.self, BackupsCommand.self, KindsCommand.self,
            ConfigCommand.self, AlertsCommand.self, ReportCommand.self, WALCommand.self, WALPushCommand.self, WALGetCommand.self,
            WALPusherCommand.self, PITRCommand.self, ArchiveTaskCommand.self, ServeCommand.self, KeysCommand.self,
        ]
    )

    package init() {}

    /// Parses with the global options moved behind the command (see `GlobalArguments`).
    /// On the main actor, like the `@main` that calls it, so `wal-push` and `wal-get` start on
    /// the main thread without a hop (`runSynchronousCommand`).
    @MainActor
    package static func main() async {
        MallocTuning.apply()
        let arguments = GlobalArguments.placed(Array(CommandLine.arguments.dropFirst()))
        runSynchronousCommand(arguments)
        await main(arguments)
    }
}
