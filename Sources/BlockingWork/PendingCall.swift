import Synchronization

/// A call waiting for its turn, which its task may give up on first: whichever of start and drop
/// comes first wins, and the caller is resumed exactly once, by the call or by the drop.
///
/// Not generic on purpose: it sits on every query's path, and a generic class there costs
/// runtime metadata look-ups on each call (measured: several microseconds of CPU per query).
@usableFromInline
final class PendingCall: Sendable {
    private enum Phase {
        /// Holds how to resume the caller with nothing, once it is known.
        case waiting(resumeEmpty: (@Sendable () -> Void)?)
        case started
        case dropped
    }

    private let phase = Mutex(Phase.waiting(resumeEmpty: nil))

    @usableFromInline
    init() {}

    /// Keeps `resumeEmpty` until the call starts or is dropped. False when it was dropped
    /// already; `resumeEmpty` has then been called.
    @usableFromInline
    func wait(resumeEmpty: @escaping @Sendable () -> Void) -> Bool {
        let dropped = phase.withLock { phase -> Bool in
            guard case .waiting = phase else { return true }
            phase = .waiting(resumeEmpty: resumeEmpty)
            return false
        }
        if dropped { resumeEmpty() }
        return !dropped
    }

    /// True when the call may run (its caller then waits for its result); false when it was
    /// dropped and must not run.
    @usableFromInline
    func start() -> Bool {
        phase.withLock { phase -> Bool in
            guard case .waiting = phase else { return false }
            phase = .started
            return true
        }
    }

    /// Drops the call unless it started, resuming its caller with nothing; false when it is running.
    @usableFromInline
    func drop() -> Bool {
        let (dropped, resumeEmpty) = phase.withLock { phase -> (Bool, (@Sendable () -> Void)?) in
            switch phase {
            case .waiting(let resumeEmpty):
                phase = .dropped
                return (true, resumeEmpty)
            case .started:
                return (false, nil)
            case .dropped:
                return (true, nil)
            }
        }
        resumeEmpty?()
        return dropped
    }
}
