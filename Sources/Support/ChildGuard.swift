import BlockingWork
import Foundation
import Synchronization

/// Makes a child process group die with the worker, however the worker ends (SIGKILL, OOM, a
/// crash), without relying on systemd or on the tool noticing anything.
///
/// The guard is a tiny `/bin/sh` that leads the group the tool then joins. It blocks reading a
/// pipe whose only write end the worker holds (close-on-exec, so no other child has it). When
/// the worker exits the kernel closes that end, the guard reads end of file and sends SIGKILL to
/// its whole group: the tool and every helper it forked (`pg_dump -j` workers), which
/// `PR_SET_PDEATHSIG` could not reach (it is not inherited across fork and follows the thread
/// that spawned, not the process). The guard ignores SIGTERM/SIGINT/SIGHUP so a cancel reaches
/// the tool while the guard keeps watching. After the tool has exited, `release()` closes the
/// pipe the same way: whatever the tool left behind in its group is killed too.
final class ChildGuard: Sendable {
    /// The guard's pid, which is also the process group of the guarded tool.
    let group: pid_t
    private let watchdog: Mutex<Int32>
    /// Where the guard is reaped once released.
    private let executor: BlockingExecutor

    /// Fixed text; nothing from the caller reaches the shell.
    static let script = "trap '' HUP INT TERM; read -r _ <&3; kill -s KILL 0"

    private init(group: pid_t, watchdog: Int32, executor: BlockingExecutor) {
        self.group = group
        self.watchdog = Mutex(watchdog)
        self.executor = executor
    }

    deinit { release() }

    static func start(reapingOn executor: BlockingExecutor = .shared) throws -> ChildGuard {
        var ends: [Int32] = [0, 0]
        // pipe2 is not exported to Swift; every spawn here closes inherited descriptors anyway
        // (closefrom), so the moment before close-on-exec is set leaks nothing to our children.
        guard pipe(&ends) == 0 else {
            throw ChildProcess.Failure(tool: "sh", outcome: .init(exitStatus: 127, signal: nil, stderrTail: "cannot create the guard's pipe: \(String(cString: strerror(errno)))"))
        }
        guard fcntl(ends[1], F_SETFD, FD_CLOEXEC) == 0 else {
            close(ends[0])
            close(ends[1])
            throw ChildProcess.Failure(tool: "sh", outcome: .init(exitStatus: 127, signal: nil, stderrTail: "cannot create the guard's pipe: \(String(cString: strerror(errno)))"))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, ends[0], 3)
        _ = SpawnCloseFrom.add(to: &actions, lowest: 4)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let words: [String] = ["sh", "-c", script, "orchestrator-child-guard"]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        close(ends[0])
        guard status == 0 else {
            close(ends[1])
            throw ChildProcess.Failure(tool: "sh", outcome: .init(exitStatus: 127, signal: nil, stderrTail: "cannot start the child guard /bin/sh: \(String(cString: strerror(status)))"))
        }
        return ChildGuard(group: pid, watchdog: ends[1], executor: executor)
    }

    /// Lets the guard end its group (and itself); idempotent. The guard is reaped in the
    /// executor's jobs lane, never on the caller's thread (it exits at once, so the wait is short).
    func release() {
        let descriptor = watchdog.withLock { (value: inout Int32) -> Int32 in
            defer { value = -1 }
            return value
        }
        guard descriptor >= 0 else { return }
        close(descriptor)
        let pid = group
        executor.execute(.jobs) {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }
}
