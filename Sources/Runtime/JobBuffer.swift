import Queue
import Synchronization

/// Claimed jobs waiting for a slot, how many slots are busy, and the claims in flight. The
/// dispatchers fill it (each reserves what it claims, so two never claim for the same room);
/// slots take from it in claim order.
final class JobBuffer: Sendable {
    struct Waiting: Sendable {
        let job: ClaimedJob
        let claimedAt: ContinuousClock.Instant
    }

    private struct State {
        var jobs: [Waiting] = []
        var head = 0
        var busy = 0
        var takers: [CheckedContinuation<Waiting?, Never>] = []
        var closed = false
        var reservedAny = 0
        var reservedAhead = 0
        var claimsInFlight = 0

        var count: Int { jobs.count - head }

        mutating func popFirst() -> Waiting? {
            guard head < jobs.count else { return nil }
            let first = jobs[head]
            head += 1
            if head > 64, head * 2 > jobs.count {  // compact now and then; keeps pops O(1)
                jobs.removeFirst(head)
                head = 0
            }
            return first
        }
    }

    private let state = Mutex(State())
    let slots: Int
    /// Jobs claimed ahead of free slots, at most; topped up once half of them are used.
    let prefetch: Int

    init(slots: Int, prefetch: Int) {
        self.slots = slots
        self.prefetch = prefetch
    }

    /// Room a dispatcher has claimed for and not yet filled.
    struct Reservation: Sendable, Equatable {
        /// Jobs of any kind, for idle slots.
        let anyKind: Int
        /// Jobs of short kinds, ahead of free slots.
        let ahead: Int
    }

    /// Reserves the room there is to claim for now, or nil when there is none.
    func reserve() -> Reservation? {
        state.withLock { state in
            let wanted = Self.wanted(in: state, slots: slots, prefetch: prefetch)
            guard wanted.anyKind > 0 || wanted.ahead > 0 else { return nil }
            state.reservedAny += wanted.anyKind
            state.reservedAhead += wanted.ahead
            state.claimsInFlight += 1
            return Reservation(anyKind: wanted.anyKind, ahead: wanted.ahead)
        }
    }

    /// Idle slots not covered by waiting jobs or claims in flight, and short jobs to claim ahead:
    /// topped up to `prefetch` (counting claims in flight) whenever a claim is made for idle
    /// slots anyway, otherwise once half of the read-ahead is used, so claims come in batches.
    private static func wanted(in state: State, slots: Int, prefetch: Int) -> (anyKind: Int, ahead: Int) {
        let waiting = state.count
        let idle = max(0, slots - state.busy - waiting - state.reservedAny)
        let coming = waiting + state.reservedAhead
        let ahead = idle > 0 || coming <= prefetch / 2 ? max(0, prefetch - coming) : 0
        return (idle, ahead)
    }

    /// True when nothing waits, no slot is busy and no claim is in flight.
    var isEmpty: Bool { state.withLock { $0.count == 0 && $0.busy == 0 && $0.claimsInFlight == 0 } }

    /// Adds what a claim brought and gives its reservation back. Returns the jobs it could not
    /// take because the buffer is closed (the worker is stopping): the caller releases them.
    func put(_ claimed: [ClaimedJob], for reservation: Reservation) -> [ClaimedJob] {
        let now = ContinuousClock.now
        var handOff: [(CheckedContinuation<Waiting?, Never>, Waiting)] = []
        let refused = state.withLock { state -> [ClaimedJob] in
            state.reservedAny -= reservation.anyKind
            state.reservedAhead -= reservation.ahead
            state.claimsInFlight -= 1
            if state.closed { return claimed }
            for job in claimed {
                let waiting = Waiting(job: job, claimedAt: now)
                if !state.takers.isEmpty {
                    state.busy += 1
                    handOff.append((state.takers.removeFirst(), waiting))
                } else {
                    state.jobs.append(waiting)
                }
            }
            return []
        }
        for (taker, waiting) in handOff { taker.resume(returning: waiting) }
        return refused
    }

    /// The next job for a slot, which counts as busy until it calls `done()`. Nil once the
    /// buffer is closed and empty.
    func take() async -> Waiting? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Waiting?, Never>) in
            let now = state.withLock { state -> Waiting?? in
                if let next = state.popFirst() {
                    state.busy += 1
                    return .some(next)
                }
                if state.closed { return .some(nil) }
                state.takers.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// A slot finished its job. Returns whether the dispatcher should claim again now.
    func done() -> Bool {
        state.withLock { state in
            state.busy -= 1
            let wanted = Self.wanted(in: state, slots: slots, prefetch: prefetch)
            return wanted.anyKind > 0 || wanted.ahead > 0
        }
    }

    /// Stops handing out jobs: returns the ones still waiting (for the caller to release) and
    /// lets idle slots return.
    func close() -> [ClaimedJob] {
        let (left, takers) = state.withLock { state -> ([ClaimedJob], [CheckedContinuation<Waiting?, Never>]) in
            state.closed = true
            var left: [ClaimedJob] = []
            while let waiting = state.popFirst() { left.append(waiting.job) }
            defer { state.takers.removeAll() }
            return (left, state.takers)
        }
        for taker in takers { taker.resume(returning: nil) }
        return left
    }
}
