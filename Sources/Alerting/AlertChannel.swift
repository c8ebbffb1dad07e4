/// A way to reach a person: Telegram, a webhook, e-mail.
///
/// `send` makes one attempt and throws `AlertDeliveryError` when it fails; retries belong to
/// `AlertDelivery`, which never throws and returns what happened.
public protocol AlertChannel: Sendable {
    /// The configured name (`ops-telegram`).
    var name: String { get }
    /// `telegram`, `webhook` or `email`.
    var kind: String { get }
    /// Knows every secret of the channel (tokens, passwords, secret headers, the secret parts of
    /// its URLs); any text about the channel passes through it before it is stored or printed.
    var redactor: Redactor { get }
    func send(_ message: AlertMessage) async throws(AlertDeliveryError)
}

/// Connection and whole-transfer limits for one attempt.
public struct ChannelTimeouts: Sendable, Equatable {
    public var connect: Duration
    public var total: Duration

    public init(connect: Duration = .seconds(10), total: Duration = .seconds(15)) {
        self.connect = connect
        self.total = total
    }

    /// The configured `timeout_seconds`, with connecting bounded by 10 s within it.
    public init(totalSeconds: Int) {
        self.init(connect: .seconds(min(totalSeconds, 10)), total: .seconds(totalSeconds))
    }
}
