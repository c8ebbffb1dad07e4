import Foundation
import Synchronization

/// The writer lock of an unfinished backup: `<profile>/.partial-<label>.lock`, held with `flock`
/// by the worker writing `.partial-<label>` and by every tool it runs there (they inherit the
/// descriptor, and so do the helpers they fork). The kernel frees it only when every process
/// that could still write into the directory is gone, so the next backup removes a leftover only
/// then: it never races a writer that outlived its worker. Blocking: call from a dedicated thread.
final class PartialBackupLock: Sendable {
    let path: String
    /// Pass to `ChildProcess.run(inheriting:)` so the tool holds the lock while it lives.
    let descriptor: Int32
    private let released = Mutex(false)

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { release() }

    /// The lock of the partial directory at `partial`; nil when someone still holds it after
    /// `waiting` (checked every 100 ms).
    static func acquire(for partial: String, waiting: Duration = .zero) throws -> PartialBackupLock? {
        let path = partial + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw BackupError("cannot open the lock \(path): \(String(cString: strerror(errno)))")
        }
        let deadline = ContinuousClock.now + waiting
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let error = errno
                close(descriptor)
                throw BackupError("cannot lock \(path): \(String(cString: strerror(error)))")
            }
            guard ContinuousClock.now < deadline else {
                close(descriptor)
                return nil
            }
            usleep(100_000)
        }
        return PartialBackupLock(path: path, descriptor: descriptor)
    }

    /// Removes the lock file, then lets go; idempotent. Only a holder removes it, so a process
    /// still holding the old file keeps it until it exits.
    func release() {
        let first = released.withLock { (done: inout Bool) -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        unlink(path)
        close(descriptor)
    }
}
