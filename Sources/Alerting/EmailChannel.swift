import Foundation

/// Sends each message as a plain-text e-mail through an SMTP server (`smtp://` or `smtps://`).
public struct EmailChannel: AlertChannel {
    public let name: String
    public var kind: String { "email" }
    let url: String
    let security: CurlRequest.TransportSecurity
    let username: String?
    let password: String?
    let from: String
    let to: [String]
    let timeouts: ChannelTimeouts
    let transport: CurlTransport
    public let redactor: Redactor

    /// - Parameters:
    ///   - smtpURL: `smtp://host:587` or `smtps://host:465`; a path (`smtp://host/name`) sets the EHLO name.
    ///   - startTLS: on `smtp://`, require `STARTTLS` before anything else is sent.
    ///   - from, to: bare addresses (`ops@example.org`).
    public init(
        name: String, smtpURL: String, startTLS: Bool = false, username: String? = nil, password: String? = nil,
        from: String, to: [String], timeouts: ChannelTimeouts = ChannelTimeouts(), transport: CurlTransport = CurlTransport()
    ) throws(AlertDeliveryError) {
        // A password may also sit in the URL's userinfo (smtp://user:password@host).
        let redactor = Redactor(secrets: [password].compactMap { $0 }, urls: [smtpURL])
        let scheme = smtpURL.lowercased()
        guard scheme.hasPrefix("smtp://") || scheme.hasPrefix("smtps://") else {
            throw AlertDeliveryError(channel: name, reason: .invalidRequest, message: "the SMTP URL must start with smtp:// or smtps://", isTransient: false)
        }
        for address in [from] + to where !Self.isPlainAddress(address) {
            throw AlertDeliveryError(channel: name, reason: .invalidRequest,
                                     message: "\(address.debugDescription) is not a plain e-mail address (local@domain, no spaces or <>)", isTransient: false)
        }
        guard !to.isEmpty else {
            throw AlertDeliveryError(channel: name, reason: .invalidRequest, message: "no recipients", isTransient: false)
        }
        self.name = name
        self.url = smtpURL
        self.security = startTLS ? .startTLS : .byScheme
        self.username = username
        self.password = password
        self.from = from
        self.to = to
        self.timeouts = timeouts
        self.transport = transport
        self.redactor = redactor
    }

    /// `local@domain` without spaces, angle brackets, commas or control characters: it goes into
    /// the SMTP envelope and the headers as is.
    public static func isPlainAddress(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, address.utf8.count <= 254 else { return false }
        return address.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && !"<>,;\"()[]\\".unicodeScalars.contains($0) }
    }

    func mail(for message: AlertMessage) -> MailMessage {
        MailMessage(
            from: from, to: to, subject: message.headline, body: message.plainText, date: Date(),
            messageID: MailMessage.newMessageID(from: from),
            headers: [("X-Orchestrator-Alert", message.alert), ("X-Orchestrator-Severity", message.severity.rawValue),
                      ("X-Orchestrator-State", message.state.rawValue)]
        )
    }

    public func send(_ message: AlertMessage) async throws(AlertDeliveryError) {
        let request = CurlRequest(
            url: url, protocols: .smtp, body: mail(for: message).rendered(),
            mail: CurlRequest.MailEnvelope(from: from, recipients: to), security: security,
            username: username, password: password, connectTimeout: timeouts.connect, timeout: timeouts.total
        )
        do {
            _ = try await transport.perform(request)
        } catch {
            // A reply code from the server decides: 4xx is temporary, 5xx permanent (RFC 5321).
            if let reply = error.responseCode, (400...599).contains(reply), !error.isCancelled {
                throw AlertDeliveryError(channel: name, reason: .status(reply), message: redactor("SMTP server refused: \(error.description)"),
                                         isTransient: reply < 500)
            }
            throw AlertDeliveryError.transfer(error, channel: name, redactor: redactor)
        }
    }
}
