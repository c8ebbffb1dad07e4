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
        /// When the statement that last set the job's lease (its claim or a renewal that got
        /// through) was sent: the database's lease lasts at least one lease from here.
        var leaseFrom: ContinuousClock.Instant
    }

    private let entries = Mutex<[Int64: Entry]>([:])

    /// Holds a claimed job that has not started yet; `claimedAt` is when the claim was sent.
    func hold(_ id: Int64, claimedAt: ContinuousClock.Instant) {
        entries.withLock { $0[id] = Entry(stop: nil, reason: nil, deadline: nil, leaseFrom: claimedAt) }
    }

    /// Marks the job started with the action that stops it and the time it must end by.
    /// Returns the reason it was already stopped for while waiting, in which case it must not run.
    func start(_ id: Int64, deadline: ContinuousClock.Instant, stop: @escaping @Sendable () -> Void) -> StopReason? {
        entries.withLock { entries in
            // Every job is held from its claim on; `.now` only stands in if one was not.
            var entry = entries[id] ?? Entry(stop: nil, reason: nil, deadline: nil, leaseFrom: .now)
            if let reason = entry.reason { return reason }
            entry.stop = stop
            entry.deadline = deadline
            entries[id] = entry
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

    /// Notes a lease renewal that got through: the leases of `ids` were set after `sentAt`.
    func renewed(_ ids: Set<Int64>, sentAt: ContinuousClock.Instant) {
        entries.withLock { entries in
            for id in ids {
                guard let leaseFrom = entries[id]?.leaseFrom, leaseFrom < sentAt else { continue }
                entries[id]?.leaseFrom = sentAt
            }
        }
    }

    /// Stops (reason `leaseLost`) the jobs not stopped yet whose lease was neither claimed nor
    /// renewed within the last `lease`: the database may have let it expire, so any worker's
    /// reaper may give the job to another run. Returns their ids.
    func stopExpiredLeases(lease: Duration, now: ContinuousClock.Instant = .now) -> [Int64] {
        let expired = entries.withLock { entries -> [(id: Int64, stop: (@Sendable () -> Void)?)] in
            let ids = entries.filter { $0.value.reason == nil && $0.value.leaseFrom + lease <= now }.map(\.key)
            for id in ids { entries[id]?.reason = .leaseLost }
            return ids.map { ($0, entries[$0]?.stop) }
        }
        for job in expired { job.stop?() }
        return expired.map(\.id)
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
