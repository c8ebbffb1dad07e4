import BlockingWork
import Foundation
import Synchronization

/// Runs an external tool (`pg_dump`, `pg_restore`, ...) without a shell.
///
/// The child runs in a process group of its own, so cancelling the job (task cancellation) stops
/// the tool and any helpers it forked (`pg_dump -j`): SIGTERM first, SIGKILL after a grace period.
/// The group also holds a `ChildGuard`, so the whole group dies with the worker even when the
/// worker is killed outright (SIGKILL, OOM): no tool outlives it to hold sessions or keep writing.
/// Waiting (reading standard error to its end, then `waitpid`) blocks a thread of the executor's
/// jobs lane, never Swift's cooperative pool. Standard error is kept as a bounded tail for the
/// error message; standard output goes to a file or /dev/null.
package enum ChildProcess {
    package struct Outcome: Sendable, Equatable {
        /// Exit status, or nil when killed by a signal.
        package let exitStatus: Int32?
        package let signal: Int32?
        package let stderrTail: String

        package var succeeded: Bool { exitStatus == 0 }
    }

    package struct Failure: Error, Sendable, CustomStringConvertible {
        package let tool: String
        package let outcome: Outcome
        package var description: String {
            let how = outcome.exitStatus.map { "exited with status \($0)" } ?? "was killed by signal \(outcome.signal ?? 0)"
            let tail = outcome.stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
            return "\(tool) \(how)\(tail.isEmpty ? "" : ": " + tail)"
        }
    }

    /// Runs `executable` with `arguments`; `environment` entries are added to (and override) this
    /// process's environment. `inheriting` descriptors (e.g. a held `flock`) are passed to the
    /// child as 3, 4, ... so they stay held while it or anything it forked lives. `priority`
    /// `.low` runs the tool and its helpers niced, at a low I/O priority. Throws `Failure`
    /// unless the tool exits 0.
    @discardableResult
    package static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        standardOutput: String? = nil, inheriting: [Int32] = [], priority: ProcessPriority = .normal,
        killGrace: Duration = .seconds(5), executor: BlockingExecutor = .shared
    ) async throws -> Outcome {
        let child = try spawn(
            executable, arguments, environment: environment, standardOutput: standardOutput.map { .file($0) } ?? .discarded,
            inheriting: inheriting, priority: priority, executor: executor
        )
        let outcome: Outcome = try await withTaskCancellationHandler {
            try await executor.run(.jobs) { try child.wait() }
        } onCancel: {
            child.terminate(grace: killGrace)
        }
        try Task.checkCancellation()
        guard outcome.succeeded else {
            throw Failure(tool: URL(fileURLWithPath: executable).lastPathComponent, outcome: outcome)
        }
        return outcome
    }

    /// Finds a tool on PATH or in PostgreSQL's versioned bin directories (newest first). With
    /// `postgresMajor` (a version such as "15" or "15.18 (Debian ...)"), that major version's bin
    /// directory is tried first: a server tool must match the data directory it runs on.
    package static func locate(
        _ tool: String, postgresMajor: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String? {
        var directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        if let major = postgresMajor?.split(whereSeparator: { !$0.isNumber }).first {
            directories.insert("/usr/lib/postgresql/\(major)/bin", at: 0)
        }
        let versioned = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        directories += versioned.compactMap(Int.init).sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
        for directory in directories {
            let candidate = directory + "/" + tool
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Where a child's standard output goes.
    enum Output {
        case discarded
        case file(String)
        /// The write end of a pipe the worker reads; closed here once the child has it.
        case pipe(Int32)
    }

    /// Starts a long-lived tool that the caller talks to through pipes or a socket pair:
    /// `standardInput` and `standardOutput` are the child's ends, possibly one descriptor
    /// (closed here once it has them). The child is
    /// guarded like every tool (its group dies with the worker); the caller reads its standard
    /// error from `errorDescriptor` and ends it with `terminate` and `reap`.
    package static func start(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        standardInput: Int32, standardOutput: Int32, executor: BlockingExecutor = .shared
    ) throws -> RunningChild {
        try spawn(
            executable, arguments, environment: environment, standardInput: standardInput, standardOutput: .pipe(standardOutput),
            inheriting: [], priority: .normal, executor: executor
        )
    }

    static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String], standardInput: Int32? = nil, standardOutput: Output,
        inheriting: [Int32], priority: ProcessPriority, executor: BlockingExecutor
    ) throws -> RunningChild {
        // Ours to close however the spawn ends: the child holds its own copy.
        defer {
            var output: Int32?
            if case .pipe(let descriptor) = standardOutput { output = descriptor }
            if let output { close(output) }
            // One socket may be both (an interactive tool's end of a socket pair).
            if let standardInput, standardInput != output { close(standardInput) }
        }
        // The guard first: if the worker dies right after, the guard ends its (empty) group.
        let guardian = try ChildGuard.start(reapingOn: executor)
        var errorPipe: [Int32] = [0, 0]
        guard pipe(&errorPipe) == 0 else {
            let error = errno
            guardian.release()
            throw POSIXError(.init(rawValue: error) ?? .EIO)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let standardInput {
            posix_spawn_file_actions_adddup2(&actions, standardInput, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        switch standardOutput {
        case .discarded:
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        case .pipe(let descriptor):
            posix_spawn_file_actions_adddup2(&actions, descriptor, 1)
        }
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        for (offset, descriptor) in inheriting.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, descriptor, 3 + Int32(offset))
        }
        // The child gets standard input, output and error (and what it is meant to inherit)
        // only: not the worker's database sockets, listening pipes or other children's pipes (a
        // pg_dump holding another job's pipe open would keep that job waiting for end of file).
        _ = SpawnCloseFrom.add(to: &actions, lowest: 3 + Int32(inheriting.count))
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, guardian.group)

        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = withUnsafeMutablePointer(to: &pid) { pidPointer in
            withUnsafePointer(to: &actions) { actionsPointer in
                withUnsafePointer(to: &attributes) { attributesPointer in
                    let call = SpawnCall(pid: pidPointer, path: executable, actions: actionsPointer, attributes: attributesPointer, argv: argv, envp: envp)
                    return priority == .low ? LowPrioritySpawner.shared.run(call) : call()
                }
            }
        }
        close(errorPipe[1])
        guard status == 0 else {
            close(errorPipe[0])
            guardian.release()
            throw Failure(tool: executable, outcome: Outcome(exitStatus: 127, signal: nil, stderrTail: "cannot start: \(String(cString: strerror(status)))"))
        }
        return RunningChild(pid: pid, stderr: errorPipe[0], guardian: guardian)
    }
}

/// A spawned child: reads its stderr tail, waits for it, and can stop its process group.
package final class RunningChild: Sendable {
    package let pid: pid_t
    private let stderr: Int32
    private let guardian: ChildGuard
    package var errorDescriptor: Int32 { stderr }
    private let finished = Mutex(false)

    init(pid: pid_t, stderr: Int32, guardian: ChildGuard) {
        self.pid = pid
        self.stderr = stderr
        self.guardian = guardian
    }

    func wait() throws -> ChildProcess.Outcome {
        var tail = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while readError(into: &buffer, tail: &tail) {}
        return reap(tail: tail)
    }

    /// Reads a chunk of standard error into the bounded tail; false at end of file.
    package func readError(into buffer: inout [UInt8], tail: inout [UInt8]) -> Bool {
        let count = read(stderr, &buffer, buffer.count)
        if count > 0 {
            tail.append(contentsOf: buffer[0..<count])
            if tail.count > 8192 { tail.removeFirst(tail.count - 8192) }
            return true
        }
        return count < 0 && errno == EINTR
    }

    /// Closes standard error, waits for the tool and ends its group.
    package func reap(tail: [UInt8]) -> ChildProcess.Outcome {
        close(stderr)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        finished.withLock { $0 = true }
        // The tool is done: whatever it left running in its group goes with the guard.
        guardian.release()
        let text = String(decoding: tail, as: UTF8.self)
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot import.
        if status & 0x7f == 0 {
            return .init(exitStatus: (status >> 8) & 0xff, signal: nil, stderrTail: text)
        }
        return .init(exitStatus: nil, signal: status & 0x7f, stderrTail: text)
    }

    package func terminate(grace: Duration) {
        guard !finished.withLock({ $0 }) else { return }
        kill(-guardian.group, SIGTERM)
        // The SIGKILL waits in a task: a sleeping task holds no thread.
        Task { [self] in
            try? await Task.sleep(for: grace)
            if !finished.withLock({ $0 }) { kill(-guardian.group, SIGKILL) }
        }
    }
}
