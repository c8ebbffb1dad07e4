import Foundation
import Synchronization

/// The thread that spawns `ProcessPriority.low` tools. Linux keeps the nice value and the I/O
/// priority per thread and a child starts with its spawning thread's, so a tool spawned here is
/// low from its first instruction and every helper it forks inherits it. Lowering the tool's
/// group after the spawn instead would race a fork already under way (a helper copies its
/// parent's priority, then joins the group after the change went through it). The thread
/// lowers itself once, never raises itself again (that needs privilege) and does nothing else.
final class LowPrioritySpawner: Sendable {
    static let shared = LowPrioritySpawner()

    private let pending = Mutex<[@Sendable () -> Void]>([])
    private let wakeUp = DispatchSemaphore(value: 0)

    private init() {
        // The thread holds the spawner for good; there is one per process.
        let thread = Thread { [self] in
            ProcessPriority.low.applyToCurrentThread()
            while true {
                wakeUp.wait()
                let work = pending.withLock { queued in
                    defer { queued.removeAll() }
                    return queued
                }
                work.forEach { $0() }
            }
        }
        thread.name = "orchestrator-low-priority-spawn"
        thread.start()
    }

    /// Runs `spawn` on the low-priority thread and waits for it (a spawn returns once the child
    /// has exec'd: milliseconds).
    func run(_ spawn: SpawnCall) -> Int32 {
        let done = DispatchSemaphore(value: 0)
        let status = Mutex<Int32>(-1)
        pending.withLock { $0.append { status.withLock { $0 = spawn() }; done.signal() } }
        wakeUp.signal()
        done.wait()
        return status.withLock { $0 }
    }
}

/// One `posix_spawn` call with its arguments, handed to the spawning thread.
// @unchecked: the pointers belong to the caller of `LowPrioritySpawner.run`, which blocks until
// the call has returned, so they stay valid and nothing else touches them meanwhile.
struct SpawnCall: @unchecked Sendable {
    let pid: UnsafeMutablePointer<pid_t>
    let path: String
    let actions: UnsafePointer<posix_spawn_file_actions_t>
    let attributes: UnsafePointer<posix_spawnattr_t>
    let argv: [UnsafeMutablePointer<CChar>?]
    let envp: [UnsafeMutablePointer<CChar>?]

    func callAsFunction() -> Int32 {
        posix_spawn(pid, path, actions, attributes, argv, envp)
    }
}
