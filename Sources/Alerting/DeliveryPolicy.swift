/// How often and how patiently a message is retried on transient failures.
public struct DeliveryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    /// Wait before the second attempt; doubled after each failure, with jitter, up to `maxDelay`.
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// A server's `Retry-After` is honoured up to this; a longer wait gives up instead of
    /// holding a worker slot.
    public var maxRetryAfter: Duration

    public init(maxAttempts: Int = 3, baseDelay: Duration = .seconds(2), maxDelay: Duration = .seconds(30), maxRetryAfter: Duration = .seconds(60)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// The wait after failed attempt `attempt` (1-based): in [ceiling/2, ceiling], where the
    /// ceiling doubles per attempt up to `maxDelay`.
    public func delay(after attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 20)
        let ceiling = min(baseDelay * (1 << exponent), maxDelay)
        return ceiling / 2 + (ceiling / 2) * Double.random(in: 0...1)
    }
}
