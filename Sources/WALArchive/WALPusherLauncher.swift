import Foundation
import Support

/// Starts the background pusher of a spool unless one runs. Exactly one runs per spool: the
/// caller takes `pusher.lock` with `flock` and hands that very lock to the pusher as its
/// descriptor 3 (a lock belongs to the open file description, which the child shares), so the
/// lock is never free between "none runs" and "the new one runs", and a second caller cannot
/// start another. The lock goes when the pusher exits in any way, `kill -9` included.
package enum WALPusherLauncher {
    /// The descriptor the pusher finds its lock on.
    package static let lockDescriptor: Int32 = 3

    /// Starts `executable arguments` as the pusher if the lock is free; false when a pusher
    /// holds it. The child gets its own session (PostgreSQL signals the archiver's process
    /// group, on a reload too), /dev/null as input and output and `pusher.log` as standard error.
    package static func startIfIdle(spool: WALSpool, executable: String, arguments: [String]) throws(WALArchiveError) -> Bool {
        let opened = open(spool.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard opened >= 0 else { throw WALArchiveError(.io, "cannot open \(spool.lockPath): \(DurableFiles.reason())") }
        // Above the descriptors the spawn sets up, so the dup2 to 3 always copies (and clears close-on-exec).
        let lock = fcntl(opened, F_DUPFD_CLOEXEC, 10)
        close(opened)
        guard lock >= 0 else { throw WALArchiveError(.io, "cannot duplicate the descriptor of \(spool.lockPath): \(DurableFiles.reason())") }
        defer { close(lock) }  // the child's copy keeps the lock
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            if errno == EWOULDBLOCK { return false }
            throw WALArchiveError(.io, "cannot lock \(spool.lockPath): \(DurableFiles.reason())")
        }
        do {
            try spawn(executable, arguments, lock: lock, log: spool.logPath)
        } catch {
            flock(lock, LOCK_UN)
            throw error
        }
        return true
    }

    /// Whether the lock is held now (by a running pusher).
    package static func isRunning(spool: WALSpool) -> Bool {
        let descriptor = open(spool.lockPath, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(descriptor, LOCK_UN)
        return false
    }

    /// The running program (the pusher is this same binary).
    package static func currentExecutable() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func spawn(_ executable: String, _ arguments: [String], lock: Int32, log: String) throws(WALArchiveError) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        posix_spawn_file_actions_adddup2(&actions, lock, lockDescriptor)
        // What PostgreSQL's archiver (or a test's pipe) left open must not live as long as the
        // pusher: a reader waiting for end of file on such a pipe would wait for it to go idle.
        _ = SpawnCloseFrom.add(to: &actions, lowest: lockDescriptor + 1)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc 2.26): Swift's Glibc module does not always export it.
        posix_spawnattr_setflags(&attributes, Int16(0x80))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw WALArchiveError(.io, "cannot start the background WAL pusher \(executable): \(DurableFiles.reason(result))")
        }
        // Not waited for: it outlives this process, and init reaps it.
    }
}
