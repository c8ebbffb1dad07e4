/// Exponential backoff with full jitter, capped: attempt 1 waits up to `base`, attempt n up to
/// `base * 2^(n-1)`, never more than `cap`. Jitter spreads retries of many jobs or workers.
package struct Backoff: Sendable, Equatable {
    package var base: Duration
    package var cap: Duration

    package init(base: Duration, cap: Duration) {
        self.base = base
        self.cap = cap
    }

    /// Between attempts to get a database connection back: quick after a blip, at most 30 s
    /// apart during a long outage.
    package static let reconnect = Backoff(base: .milliseconds(250), cap: .seconds(30))

    /// The upper bound for `attempt` (1-based), before jitter.
    package func ceiling(attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let scaled = base * (1 << exponent)
        return min(scaled, cap)
    }

    /// A delay in [ceiling/2, ceiling]: half fixed so a retry is never immediate, half random.
    package func delay<G: RandomNumberGenerator>(attempt: Int, using generator: inout G) -> Duration {
        let ceiling = ceiling(attempt: attempt)
        let half = ceiling / 2
        let jitterMillis = Int64.random(in: 0...max(1, Int64(half.components.seconds * 1000 + half.components.attoseconds / 1_000_000_000_000_000)), using: &generator)
        return half + .milliseconds(jitterMillis)
    }

    package func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}

extension Duration {
    /// Whole and fractional seconds, for SQL intervals and JSON.
    package var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
