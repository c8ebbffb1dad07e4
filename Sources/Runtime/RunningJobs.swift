import Synchronization

/// The jobs this worker holds (claimed and waiting for a slot, or running), so a cancel
/// request, a lost lease, a timeout or shutdown can reach the task doing the work — or stop a
/// waiting job before it starts.
final class RunningJobs: Sendable {
    enum StopReason: Sendable, Equatable {
        case cancelRequested
        case timeout
        case shutdown
        case leaseLost
    }

    private struct Entry {
        var stop: (@Sendable () -> Void)?
        var reason: StopReason?
        var deadline: ContinuousClock.Instant?
    }

    private let entries = Mutex<[Int64: Entry]>([:])

    /// Holds a claimed job that has not started yet.
    func hold(_ id: Int64) {
        entries.withLock { $0[id] = Entry(stop: nil, reason: nil) }
    }

    /// Marks the job started with the action that stops it and the time it must end by.
    /// Returns the reason it was already stopped for while waiting, in which case it must not run.
    func start(_ id: Int64, deadline: ContinuousClock.Instant, stop: @escaping @Sendable () -> Void) -> StopReason? {
        entries.withLock { entries in
            if let reason = entries[id]?.reason { return reason }
            entries[id] = Entry(stop: stop, reason: nil, deadline: deadline)
            return nil
        }
    }

    /// Stops every running job whose deadline passed (reason `timeout`).
    func stopOverdue(at now: ContinuousClock.Instant = .now) {
        let overdue = entries.withLock { entries in
            entries.filter { entry in entry.value.deadline.map { $0 <= now } ?? false }.map(\.key)
        }
        for id in overdue { stop(id, reason: .timeout) }
    }

    /// True while any job runs with a deadline.
    var hasDeadlines: Bool { entries.withLock { $0.values.contains { $0.deadline != nil } } }

    /// Removes the job and tells why it was stopped, if it was.
    func remove(_ id: Int64) -> StopReason? {
        entries.withLock { $0.removeValue(forKey: id)?.reason }
    }

    /// Stops one job; the first reason given wins. Returns false if the job is not held here.
    @discardableResult
    func stop(_ id: Int64, reason: StopReason) -> Bool {
        let (held, stop) = entries.withLock { entries -> (Bool, (@Sendable () -> Void)?) in
            guard var entry = entries[id] else { return (false, nil) }
            if entry.reason == nil { entry.reason = reason }
            entries[id] = entry
            return (true, entry.stop)
        }
        stop?()
        return held
    }

    func stopAll(reason: StopReason) {
        for id in ids { stop(id, reason: reason) }
    }

    var ids: Set<Int64> { entries.withLock { Set($0.keys) } }
}
