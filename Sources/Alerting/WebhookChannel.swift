/// POSTs each message as JSON to a URL (`WebhookChannel.Payload`, documented in the README).
///
/// Any 2xx status is success. Header values and the URL may be secrets (an `Authorization`
/// header, a URL with a token in it): the caller lists secret values, and the URL's userinfo,
/// path segments and query values are always treated as secret, so errors are redacted.
public struct WebhookChannel: AlertChannel {
    public let name: String
    public var kind: String { "webhook" }
    let url: String
    let headers: [String]
    let poster: JSONPoster
    public var redactor: Redactor { poster.redactor }

    /// - Parameters:
    ///   - headers: extra headers, in order; names and values must not contain line breaks.
    ///   - secrets: values to redact from errors (secret header values, a secret URL).
    public init(
        name: String, url: String, headers: [(name: String, value: String)] = [], secrets: [String] = [],
        timeouts: ChannelTimeouts = ChannelTimeouts(), transport: CurlTransport = CurlTransport(), userAgent: String = "orchestrator"
    ) throws(AlertDeliveryError) {
        let redactor = Redactor(secrets: secrets, urls: [url])
        for header in headers {
            let text = header.name + header.value
            guard !header.name.isEmpty, !header.name.contains(":"), !text.contains("\r"), !text.contains("\n") else {
                throw AlertDeliveryError(channel: name, reason: .invalidRequest,
                                         message: redactor("header \(header.name.debugDescription) has an empty name, a ':' in its name or a line break"), isTransient: false)
            }
        }
        guard url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://") else {
            throw AlertDeliveryError(channel: name, reason: .invalidRequest, message: "the URL must start with http:// or https://", isTransient: false)
        }
        self.name = name
        self.url = url
        self.headers = headers.map { "\($0.name): \($0.value)" }
        self.poster = JSONPoster(channel: name, redactor: redactor, timeouts: timeouts, transport: transport, userAgent: userAgent)
    }

    /// The JSON body, version 1. Keys are sorted; `fields` keeps the last value of a repeated name.
    public struct Payload: Codable, Sendable, Equatable {
        public var version = 1
        public var source = "orchestrator"
        public var alert: String
        public var severity: AlertMessage.Severity
        public var state: AlertMessage.State
        public var summary: String
        public var details: String
        public var fields: [String: String]
        public var host: String
        /// ISO 8601 UTC.
        public var time: String

        public init(_ message: AlertMessage) {
            alert = message.alert
            severity = message.severity
            state = message.state
            summary = message.title
            details = message.body
            fields = Dictionary(message.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
            host = message.host
            time = AlertMessage.timestamp(message.time)
        }
    }

    public func send(_ message: AlertMessage) async throws(AlertDeliveryError) {
        let response = try await poster.post(url: url, headers: headers, body: JSONPoster.encode(Payload(message)))
        if let failure = poster.failure(for: response) { throw failure }
    }
}
