import Synchronization

/// A view many requests share, such as the overview or `/metrics`: callers that arrive while it
/// is being read wait for that one read instead of each making their own, and a value read less
/// than `freshFor` ago is served again. Twenty browsers and two Prometheus servers then cost the
/// database one overview a second, not one per request. A failed read is not kept.
final class CoalescedRead<Value: Sendable>: Sendable {
    private enum State {
        case empty
        case reading(Task<Value, any Error>)
        case ready(Value, ContinuousClock.Instant)
    }

    private enum Step {
        case have(Value)
        case join(Task<Value, any Error>)
        case lead(Task<Value, any Error>)
    }

    private let state = Mutex(State.empty)
    let freshFor: Duration

    init(freshFor: Duration) {
        self.freshFor = freshFor
    }

    func value(_ read: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let now = ContinuousClock.now
        let step = state.withLock { state -> Step in
            switch state {
            case .ready(let value, let readAt) where now - readAt < freshFor:
                return .have(value)
            case .reading(let task):
                return .join(task)
            default:
                let task = Task { try await read() }
                state = .reading(task)
                return .lead(task)
            }
        }
        switch step {
        case .have(let value):
            return value
        case .join(let task):
            return try await task.value
        case .lead(let task):
            do {
                let value = try await task.value
                state.withLock { $0 = .ready(value, ContinuousClock.now) }
                return value
            } catch {
                state.withLock { $0 = .empty }
                throw error
            }
        }
    }
}
