import Foundation

/// Sends plain-text messages through a Telegram bot (`sendMessage`).
///
/// The bot token is part of the URL path (`/bot<token>/sendMessage`); every error is redacted
/// so the token never reaches a log or a job row.
public struct TelegramChannel: AlertChannel {
    public static let defaultAPIBaseURL = "https://api.telegram.org"
    /// Telegram refuses longer messages.
    static let maxTextLength = 4096

    public let name: String
    public var kind: String { "telegram" }
    let chatID: String
    let endpoint: String
    let poster: JSONPoster
    public var redactor: Redactor { poster.redactor }

    /// - Parameters:
    ///   - apiBaseURL: `https://api.telegram.org`, or a local server in tests.
    public init(
        name: String, botToken: String, chatID: String, apiBaseURL: String = defaultAPIBaseURL,
        timeouts: ChannelTimeouts = ChannelTimeouts(), transport: CurlTransport = CurlTransport(), userAgent: String = "orchestrator"
    ) throws(AlertDeliveryError) {
        let redactor = Redactor(secrets: [botToken], urls: [apiBaseURL])
        guard Self.isPlausibleToken(botToken) else {
            throw AlertDeliveryError(channel: name, reason: .invalidRequest,
                                     message: "the bot token does not look like a Telegram token (digits, ':', letters, digits, '_' or '-')", isTransient: false)
        }
        var base = apiBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.name = name
        self.chatID = chatID
        self.endpoint = "\(base)/bot\(botToken)/sendMessage"
        self.poster = JSONPoster(channel: name, redactor: redactor, timeouts: timeouts, transport: transport, userAgent: userAgent)
    }

    /// Tokens go into a URL path, so only their documented alphabet is accepted.
    public static func isPlausibleToken(_ token: String) -> Bool {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        return parts[0].allSatisfy(\.isASCII) && parts[0].allSatisfy(\.isNumber)
            && parts[1].unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-") }
    }

    struct Payload: Encodable {
        let chatId: String
        let text: String
        let disableWebPagePreview = true
        enum CodingKeys: String, CodingKey {
            case chatId = "chat_id", text, disableWebPagePreview = "disable_web_page_preview"
        }
    }

    /// Telegram's answer: `{"ok": false, "error_code": 429, "description": "...", "parameters": {"retry_after": 5}}`.
    struct Answer: Decodable {
        struct Parameters: Decodable {
            let retryAfter: Int?
            enum CodingKeys: String, CodingKey { case retryAfter = "retry_after" }
        }
        let ok: Bool
        let description: String?
        let parameters: Parameters?
    }

    public func send(_ message: AlertMessage) async throws(AlertDeliveryError) {
        var text = message.plainText
        if text.count > Self.maxTextLength { text = String(text.prefix(Self.maxTextLength - 1)) + "…" }
        let body = JSONPoster.encode(Payload(chatId: chatID, text: text))
        let response = try await poster.post(url: endpoint, body: body)
        let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body))
        if let failure = poster.failure(for: response, detail: answer?.description, retryAfterSeconds: answer?.parameters?.retryAfter) {
            throw failure
        }
        if let answer, !answer.ok {
            throw AlertDeliveryError(channel: name, reason: .rejected,
                                     message: poster.redactor("Telegram refused the message: \(JSONPoster.excerpt(answer.description ?? "no description"))"),
                                     isTransient: false)
        }
    }
}
