/// `alerts:` — where alerts are delivered, which thresholds fire them, and how often a firing
/// alert is repeated. Every key is optional; without `thresholds` the defaults of the old
/// scripts apply (see `ThresholdRule.defaults`).
package struct AlertSettings: Sendable, Decodable, Equatable {
    /// Delivery channels by name (`ops-telegram`), referenced by `channels_for` and `alerts test`.
    package var channels: [String: AlertChannelSettings]
    /// Threshold rules on health metrics, in order: the first rule matching a metric and subject wins.
    package var thresholds: [ThresholdRule]
    /// A firing alert is sent again this often (minutes); 0 sends it once.
    package var repeatMinutes: Int
    /// Which channels get alerts of each severity; nil sends every alert to every channel.
    package var channelsFor: ChannelRouting?
    /// Alerts about the orchestrator itself.
    package var builtin: BuiltinAlertSettings
    /// A dead man's switch: a URL (a Healthchecks-style endpoint) fetched after every successful
    /// `check-alerts`, so someone else notices when the host, the workers or alerting stop.
    /// Written here (`heartbeat_url`) or, when it carries a token, read from
    /// `heartbeat_url_env` / `heartbeat_url_file`.
    package var heartbeatURL: String?
    package var heartbeatURLSecret: SecretReference

    package static let defaultRepeatMinutes = 240

    enum CodingKeys: String, CodingKey, CaseIterable {
        case channels, thresholds, repeatMinutes = "repeat_minutes", channelsFor = "channels_for", builtin
        case heartbeatURL = "heartbeat_url", heartbeatURLEnv = "heartbeat_url_env", heartbeatURLFile = "heartbeat_url_file"
    }

    package init(
        channels: [String: AlertChannelSettings] = [:], thresholds: [ThresholdRule] = [], repeatMinutes: Int = defaultRepeatMinutes,
        channelsFor: ChannelRouting? = nil, builtin: BuiltinAlertSettings = BuiltinAlertSettings(),
        heartbeatURL: String? = nil, heartbeatURLSecret: SecretReference = SecretReference()
    ) {
        self.heartbeatURL = heartbeatURL
        self.heartbeatURLSecret = heartbeatURLSecret
        self.channels = channels
        self.thresholds = thresholds
        self.repeatMinutes = repeatMinutes
        self.channelsFor = channelsFor
        self.builtin = builtin
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        channels = try c.decode(.channels, default: [:])
        thresholds = try c.decode(.thresholds, default: [])
        repeatMinutes = try c.decode(.repeatMinutes, default: Self.defaultRepeatMinutes)
        channelsFor = try c.decodeIfPresent(ChannelRouting.self, forKey: .channelsFor)
        builtin = try c.decode(.builtin, default: BuiltinAlertSettings())
        heartbeatURL = try c.decodeIfPresent(String.self, forKey: .heartbeatURL)
        heartbeatURLSecret = SecretReference(
            environmentVariable: try c.decodeIfPresent(String.self, forKey: .heartbeatURLEnv),
            file: try c.decodeIfPresent(String.self, forKey: .heartbeatURLFile)
        )
    }

    /// Whether a heartbeat URL is configured, written or as a secret.
    package var hasHeartbeat: Bool { heartbeatURL != nil || heartbeatURLSecret.isConfigured }

    /// The channel names an alert of this severity goes to.
    package func channelNames(for severity: AlertSeverity) -> [String] {
        guard let routing = channelsFor else { return channels.keys.sorted() }
        return severity == .critical ? routing.critical : routing.warning
    }
}

/// `alerts.channels.NAME`: one destination, selected by `type`, with the keys that type takes.
/// Secrets are never inline: each has a `*_env` (variable name) and a `*_file` (path) form.
package struct AlertChannelSettings: Sendable, Decodable, Equatable {
    package enum Destination: Sendable, Equatable {
        case telegram(TelegramChannelSettings)
        case webhook(WebhookChannelSettings)
        case email(EmailChannelSettings)
    }

    package var destination: Destination
    /// Limit for one attempt, connection included (connecting alone: at most 10 s of it).
    package var timeoutSeconds: Int
    /// Attempts per message when failures are transient (connection, timeout, 5xx, 429).
    package var attempts: Int

    package static let defaultTimeoutSeconds = 15
    package static let defaultAttempts = 3
    static let types = ["telegram", "webhook", "email"]
    static let commonKeys = ["type", "timeout_seconds", "attempts"]

    package init(_ destination: Destination, timeoutSeconds: Int = defaultTimeoutSeconds, attempts: Int = defaultAttempts) {
        self.destination = destination
        self.timeoutSeconds = timeoutSeconds
        self.attempts = attempts
    }

    /// `telegram`, `webhook` or `email`.
    package var type: String {
        switch destination {
        case .telegram: "telegram"
        case .webhook: "webhook"
        case .email: "email"
        }
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        let typeKey = AnyCodingKey(stringValue: "type")
        guard c.contains(typeKey) else {
            throw DecodingError.keyNotFound(typeKey, .init(codingPath: decoder.codingPath, debugDescription: "type is required"))
        }
        let type = try c.decode(String.self, forKey: typeKey)
        switch type {
        case "telegram": destination = .telegram(try TelegramChannelSettings(from: decoder))
        case "webhook": destination = .webhook(try WebhookChannelSettings(from: decoder))
        case "email": destination = .email(try EmailChannelSettings(from: decoder))
        default:
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath + [typeKey],
                debugDescription: "unknown channel type \(type.debugDescription); valid types: \(Self.types.joined(separator: ", "))"
            ))
        }
        timeoutSeconds = try c.decode(AnyCodingKey(stringValue: "timeout_seconds"), default: Self.defaultTimeoutSeconds)
        attempts = try c.decode(AnyCodingKey(stringValue: "attempts"), default: Self.defaultAttempts)
    }
}

/// `type: telegram` — a bot posting to one chat.
package struct TelegramChannelSettings: Sendable, Decodable, Equatable {
    package var botToken: SecretReference
    /// Numeric chat id (`-100123…` for groups and channels) or `@channelname`.
    package var chatID: String
    /// The Bot API server; only changed for a local Bot API server or tests.
    package var apiURL: String

    static let keys = ["bot_token_env", "bot_token_file", "chat_id", "api_url"]

    package init(botToken: SecretReference, chatID: String, apiURL: String = "https://api.telegram.org") {
        self.botToken = botToken
        self.chatID = chatID
        self.apiURL = apiURL
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectChannelKeys(Self.keys, inlineSecrets: ["bot_token"])
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        botToken = try SecretReference(c, "bot_token")
        chatID = try c.decode(ScalarText.self, forKey: AnyCodingKey(stringValue: "chat_id")).text
        apiURL = try c.decode(AnyCodingKey(stringValue: "api_url"), default: "https://api.telegram.org")
    }
}

/// `type: webhook` — JSON POSTed to a URL.
package struct WebhookChannelSettings: Sendable, Decodable, Equatable {
    /// The URL itself, or where to read it when it carries a token (`url_env`, `url_file`).
    package var url: String?
    package var urlSecret: SecretReference
    /// Header values written in the file: for values that are not secret.
    package var headers: [String: String]
    /// Header name → environment variable holding its value.
    package var headersEnv: [String: String]
    /// Header name → file holding its value.
    package var headersFile: [String: String]

    static let keys = ["url", "url_env", "url_file", "headers", "headers_env", "headers_file"]

    package init(url: String? = nil, urlSecret: SecretReference = SecretReference(), headers: [String: String] = [:],
                headersEnv: [String: String] = [:], headersFile: [String: String] = [:]) {
        self.url = url
        self.urlSecret = urlSecret
        self.headers = headers
        self.headersEnv = headersEnv
        self.headersFile = headersFile
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectChannelKeys(Self.keys, inlineSecrets: [])
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        url = try c.decodeIfPresent(String.self, forKey: AnyCodingKey(stringValue: "url"))
        urlSecret = try SecretReference(c, "url")
        headers = try c.decode(AnyCodingKey(stringValue: "headers"), default: [String: ScalarText]()).mapValues(\.text)
        headersEnv = try c.decode(AnyCodingKey(stringValue: "headers_env"), default: [:])
        headersFile = try c.decode(AnyCodingKey(stringValue: "headers_file"), default: [:])
    }
}

/// `type: email` — plain-text mail through an SMTP server.
package struct EmailChannelSettings: Sendable, Decodable, Equatable {
    /// `smtp://host:25`, `smtp://host:587` (with `starttls: true`) or `smtps://host:465`.
    package var smtpURL: String
    /// Require STARTTLS on an `smtp://` connection; the mail is not sent in clear if it fails.
    package var startTLS: Bool
    package var from: String
    package var to: [String]
    package var username: String?
    package var password: SecretReference

    static let keys = ["smtp_url", "starttls", "from", "to", "username", "password_env", "password_file"]

    package init(smtpURL: String, startTLS: Bool = false, from: String, to: [String], username: String? = nil,
                password: SecretReference = SecretReference()) {
        self.smtpURL = smtpURL
        self.startTLS = startTLS
        self.from = from
        self.to = to
        self.username = username
        self.password = password
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectChannelKeys(Self.keys, inlineSecrets: ["password"])
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        smtpURL = try c.decode(String.self, forKey: AnyCodingKey(stringValue: "smtp_url"))
        startTLS = try c.decode(AnyCodingKey(stringValue: "starttls"), default: false)
        from = try c.decode(String.self, forKey: AnyCodingKey(stringValue: "from"))
        to = try c.decode([String].self, forKey: AnyCodingKey(stringValue: "to"))
        username = try c.decodeIfPresent(String.self, forKey: AnyCodingKey(stringValue: "username"))
        password = try SecretReference(c, "password")
    }
}

extension Decoder {
    /// Like `rejectUnknownKeys`, for a channel's keys plus the common ones; an inline secret
    /// (`bot_token:`) gets an error saying where secrets go instead.
    fileprivate func rejectChannelKeys(_ keys: [String], inlineSecrets: Set<String>) throws {
        let container = try container(keyedBy: AnyCodingKey.self)
        let allowed = AlertChannelSettings.commonKeys + keys
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            let message = inlineSecrets.contains(key.stringValue)
                ? "secrets are never written in the configuration; use \(key.stringValue)_env (an environment variable) or \(key.stringValue)_file (a file readable only by the service user)"
                : "unknown key; allowed: \(allowed.joined(separator: ", "))"
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath + [key], debugDescription: message))
        }
    }
}
