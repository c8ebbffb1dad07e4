import Archiving
import Foundation
import Support

/// Where a job's archive work runs.
///
/// `childProcess` runs each `ArchiveTask` in a child process of the orchestrator binary (the
/// hidden `archive-task` command). Swift cannot catch a segmentation fault or a trap, so a
/// fault inside libarchive (or in the code around it) would otherwise end the whole worker and
/// every job it runs; in a child it ends that child, and the job fails with an error naming
/// the signal while the worker carries on. The worker service uses it; `inProcess` (a
/// dedicated thread of this process) serves tools and tests that run jobs without the binary.
package enum ArchiveRunner: Sendable, Equatable {
    case inProcess
    case childProcess(executable: String)

    /// The command name of the hidden subcommand that performs one task.
    package static let command = "archive-task"

    /// A child process of the running executable. `/proc/self/exe` is the very binary this
    /// process runs, even after an upgrade replaced the file on disk, so parent and child always
    /// agree on the task format.
    package static var isolated: ArchiveRunner {
        let executable = "/proc/self/exe"
        return .childProcess(executable: access(executable, X_OK) == 0 ? executable : CommandLine.arguments[0])
    }

    /// Performs `task`. A child holds the `inheriting` descriptors (a backup's writer lock)
    /// until it exits, as the tools do, and runs at `priority` (in process, it runs as the worker).
    package func run(_ task: ArchiveTask, inheriting: [Int32] = [], priority: ProcessPriority = .normal) async throws -> ArchiveTask.Result {
        switch self {
        case .inProcess:
            return try await Archiver.run { try task.perform() }
        case .childProcess(let executable):
            return try await Self.runChild(executable, task, inheriting: inheriting, priority: priority)
        }
    }

    /// The child's side: performs the task `request` (JSON) and returns the reply (JSON).
    /// Throws only when the request cannot be decoded.
    package static func answer(request: String) throws -> Data {
        let task = try JSONDecoder().decode(ArchiveTask.self, from: Data(request.utf8))
        return try JSONEncoder().encode(ArchiveTask.Reply(Result { try task.perform() }))
    }

    private static func runChild(_ executable: String, _ task: ArchiveTask, inheriting: [Int32], priority: ProcessPriority) async throws -> ArchiveTask.Result {
        let request = String(decoding: try JSONEncoder().encode(task), as: UTF8.self)
        let replyPath = FileManager.default.temporaryDirectory.appendingPathComponent("orchestrator-archive-\(UUID().uuidString).json").path
        defer { unlink(replyPath) }
        do {
            try await ChildProcess.run(executable, [command, request], standardOutput: replyPath, inheriting: inheriting, priority: priority)
        } catch let failure as ChildProcess.Failure {
            throw ArchiveProcessFailure(outcome: failure.outcome)
        }
        guard let data = FileManager.default.contents(atPath: replyPath),
              let reply = try? JSONDecoder().decode(ArchiveTask.Reply.self, from: data) else {
            throw ArchiveProcessFailure(outcome: nil)
        }
        return try reply.get()
    }
}

/// The archive child process died or answered nothing: the job fails, the worker goes on.
package struct ArchiveProcessFailure: Error, Sendable, CustomStringConvertible {
    package let outcome: ChildProcess.Outcome?

    package var description: String {
        guard let outcome else {
            return "the archive process gave no answer; check that the worker's binary can run `orchestrator \(ArchiveRunner.command)`"
        }
        let tail = outcome.stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
        let detail = tail.isEmpty ? "" : ": " + String(tail.suffix(1000))
        if let signal = outcome.signal {
            let name = strsignal(signal).map { String(cString: $0) } ?? "unknown signal"
            return "the archive process for this job was killed by signal \(signal) (\(name)); the job failed, the worker carries on. "
                + "If it repeats, a file in the file set or the archive may trigger a fault: report it with the worker's log\(detail)"
        }
        return "the archive process for this job exited with status \(outcome.exitStatus ?? -1)\(detail)"
    }
}
