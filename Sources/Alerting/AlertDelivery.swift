import Logging

/// What happened when a message was delivered (or not): enough to record in `alerts`.
public struct DeliveryReport: Sendable, Equatable {
    public let channel: String
    public let kind: String
    public let delivered: Bool
    public let attempts: Int
    public let duration: Duration
    /// The last attempt's error when delivery failed; already redacted.
    public let lastError: AlertDeliveryError?
}

/// Sends through a channel with retries. Never throws: a failing channel is a report, not a
/// crash, and the caller decides what to record.
public enum AlertDelivery {
    public static func deliver(
        _ message: AlertMessage, via channel: any AlertChannel, policy: DeliveryPolicy = DeliveryPolicy(), logger: Logger
    ) async -> DeliveryReport {
        let clock = ContinuousClock()
        let start = clock.now
        var attempt = 0
        var lastError: AlertDeliveryError?
        func report(_ delivered: Bool) -> DeliveryReport {
            DeliveryReport(channel: channel.name, kind: channel.kind, delivered: delivered, attempts: attempt,
                           duration: clock.now - start, lastError: delivered ? nil : lastError)
        }
        while attempt < policy.maxAttempts {
            attempt += 1
            do {
                try await channel.send(message)
                logger.debug("alert delivered", metadata: metadata(channel, message, attempt))
                return report(true)
            } catch {
                // The one way out for a channel's errors, to logs and to the caller's rows.
                let error = error.redacted(by: channel.redactor)
                lastError = error
                var fields = metadata(channel, message, attempt)
                fields["delivery.error"] = "\(error.message)"
                fields["delivery.transient"] = "\(error.isTransient)"
                guard error.isTransient, attempt < policy.maxAttempts else {
                    logger.warning("alert delivery failed", metadata: fields)
                    return report(false)
                }
                var wait = policy.delay(after: attempt)
                if let asked = error.retryAfter {
                    guard asked <= policy.maxRetryAfter else {
                        fields["delivery.retry_after_s"] = "\(asked.components.seconds)"
                        logger.warning("alert delivery failed; the server asks to wait longer than allowed", metadata: fields)
                        return report(false)
                    }
                    wait = max(wait, asked)
                }
                fields["delivery.retry_in_ms"] = "\(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)"
                logger.info("alert delivery failed; retrying", metadata: fields)
                do {
                    try await Task.sleep(for: wait)
                } catch {
                    lastError = AlertDeliveryError(channel: channel.name, reason: .cancelled, message: "cancelled while waiting to retry", isTransient: false)
                    return report(false)
                }
            }
        }
        return report(false)
    }

    private static func metadata(_ channel: any AlertChannel, _ message: AlertMessage, _ attempt: Int) -> Logger.Metadata {
        ["alert.channel": "\(channel.name)", "alert.channel_kind": "\(channel.kind)", "alert.name": "\(message.alert)",
         "alert.state": "\(message.state.rawValue)", "delivery.attempt": "\(attempt)"]
    }
}
