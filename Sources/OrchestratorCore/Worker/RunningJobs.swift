import Synchronization

/// The jobs this worker is running, so a cancel request, a lost lease, a timeout or shutdown
/// can reach the task doing the work.
final class RunningJobs: Sendable {
    enum StopReason: Sendable, Equatable {
        case cancelRequested
        case timeout
        case shutdown
        case leaseLost
    }

    private struct Entry {
        let stop: @Sendable () -> Void
        var reason: StopReason?
    }

    private let entries = Mutex<[Int64: Entry]>([:])

    func register(_ id: Int64, stop: @escaping @Sendable () -> Void) {
        entries.withLock { $0[id] = Entry(stop: stop, reason: nil) }
    }

    /// Removes the job and tells why it was stopped, if it was.
    func remove(_ id: Int64) -> StopReason? {
        entries.withLock { $0.removeValue(forKey: id)?.reason }
    }

    /// Stops one job; the first reason given wins. Returns false if the job is not running here.
    @discardableResult
    func stop(_ id: Int64, reason: StopReason) -> Bool {
        let stop = entries.withLock { entries -> (@Sendable () -> Void)? in
            guard var entry = entries[id] else { return nil }
            if entry.reason == nil { entry.reason = reason }
            entries[id] = entry
            return entry.stop
        }
        stop?()
        return stop != nil
    }

    func stopAll(reason: StopReason) {
        for id in ids { stop(id, reason: reason) }
    }

    var ids: Set<Int64> { entries.withLock { Set($0.keys) } }
}
