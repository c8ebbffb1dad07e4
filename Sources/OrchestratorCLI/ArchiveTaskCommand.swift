import ArgumentParser
import Backups
import Foundation

/// Performs one archive task for a worker, in a process of its own (see `ArchiveRunner`): a
/// fault here ends this process and fails the job, never the worker. Not for people: hidden
/// from help. The reply (result or error) is JSON on standard output.
struct ArchiveTaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ArchiveRunner.command,
        abstract: "Internal: run one archive task for a worker.",
        shouldDisplay: false
    )

    @Argument(help: "The task, as JSON.")
    var request: String

    func run() throws {
        let reply: Data
        do {
            reply = try ArchiveRunner.answer(request: request)
        } catch {
            throw ValidationError("the archive task is not valid JSON for this version of orchestrator: \(error)")
        }
        FileHandle.standardOutput.write(reply)
    }
}
