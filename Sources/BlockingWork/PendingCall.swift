import Synchronization

/// A call waiting for its turn, which its task may give up on first: whichever of start and drop
/// comes first wins, and the caller is resumed exactly once, by the call or by the drop.
final class PendingCall<Value: Sendable>: Sendable {
    typealias Caller = CheckedContinuation<Value?, Never>

    private enum Phase {
        case waiting(Caller?)
        case started
        case dropped
    }

    private let phase = Mutex(Phase.waiting(nil))

    /// Keeps the caller until the call starts or is dropped. False when it was dropped already;
    /// the caller is then resumed with nil at once.
    func wait(_ caller: Caller) -> Bool {
        let dropped = phase.withLock { phase -> Bool in
            guard case .waiting = phase else { return true }
            phase = .waiting(caller)
            return false
        }
        if dropped { caller.resume(returning: nil) }
        return !dropped
    }

    /// The caller to resume with the call's result; nil when the call was dropped and must not run.
    func start() -> Caller? {
        phase.withLock { phase -> Caller? in
            guard case .waiting(let caller?) = phase else { return nil }
            phase = .started
            return caller
        }
    }

    /// Drops the call unless it started, resuming its caller with nil; false when it is running.
    func drop() -> Bool {
        let (dropped, caller) = phase.withLock { phase -> (Bool, Caller?) in
            switch phase {
            case .waiting(let caller):
                phase = .dropped
                return (true, caller)
            case .started:
                return (false, nil)
            case .dropped:
                return (true, nil)
            }
        }
        caller?.resume(returning: nil)
        return dropped
    }
}
