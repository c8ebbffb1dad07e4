import CurlSupport

/// One failed attempt to deliver through a channel.
///
/// `message` has been through the channel's `Redactor`: it never contains a token, password,
/// secret header or secret URL, so it may be logged and stored in job rows and `alerts`.
public struct AlertDeliveryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// No answer: DNS, connection refused, TLS, timeout (the `CURLcode`).
        case transfer(curlCode: Int)
        /// The server answered with a failing HTTP status or SMTP reply code.
        case status(Int)
        /// The service answered but refused the message (Telegram `ok: false`).
        case rejected
        case cancelled
        /// The request could not be built (bad URL, bad token shape): a configuration problem.
        case invalidRequest
    }

    public let channel: String
    public let reason: Reason
    public let message: String
    /// Worth retrying: connection failures, timeouts, 5xx, 408, 429, SMTP 4xx.
    public let isTransient: Bool
    /// The server asked to wait this long before trying again (HTTP 429 `Retry-After`,
    /// Telegram `retry_after`).
    public let retryAfter: Duration?

    public init(channel: String, reason: Reason, message: String, isTransient: Bool, retryAfter: Duration? = nil) {
        self.channel = channel
        self.reason = reason
        self.message = message
        self.isTransient = isTransient
        self.retryAfter = retryAfter
    }

    /// The HTTP status (or SMTP reply code) the server answered with, if it answered.
    public var statusCode: Int? {
        if case .status(let code) = reason { return code }
        return nil
    }

    /// The libcurl error code, if the transfer itself failed.
    public var curlCode: Int? {
        if case .transfer(let code) = reason { return code }
        return nil
    }

    public var description: String { "\(channel): \(message)" }

    /// Whether an HTTP status is worth another attempt: the server may recover (5xx), asks to slow
    /// down (429) or timed out (408, 425). Other 4xx mean the request itself is wrong.
    public static func isTransient(httpStatus: Int) -> Bool {
        [408, 425, 429].contains(httpStatus) || (500...599).contains(httpStatus)
    }

    /// The same error with its message passed through `redactor` once more: whatever a
    /// channel put in it, only redacted text leaves `AlertDelivery`.
    public func redacted(by redactor: Redactor) -> AlertDeliveryError {
        AlertDeliveryError(channel: channel, reason: reason, message: redactor(message), isTransient: isTransient, retryAfter: retryAfter)
    }

    static func transfer(_ error: CurlError, channel: String, redactor: Redactor) -> AlertDeliveryError {
        if error.isCancelled {
            return AlertDeliveryError(channel: channel, reason: .cancelled, message: "cancelled", isTransient: false)
        }
        return AlertDeliveryError(channel: channel, reason: .transfer(curlCode: error.code), message: redactor(error.description), isTransient: error.isTransient)
    }
}
