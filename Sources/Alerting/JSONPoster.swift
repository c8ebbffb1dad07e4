import Foundation

/// POSTs JSON for one channel and turns what happens into a response or a redacted
/// `AlertDeliveryError`. Shared by the Telegram and webhook channels.
struct JSONPoster: Sendable {
    let channel: String
    let redactor: Redactor
    let timeouts: ChannelTimeouts
    let transport: CurlTransport
    let userAgent: String

    func post(url: String, headers: [String] = [], body: [UInt8]) async throws(AlertDeliveryError) -> CurlResponse {
        let request = CurlRequest(
            url: url, protocols: .http,
            headers: ["Content-Type: application/json; charset=utf-8", "Accept: application/json", "User-Agent: \(userAgent)"] + headers,
            body: body, connectTimeout: timeouts.connect, timeout: timeouts.total
        )
        do {
            return try await transport.perform(request)
        } catch {
            throw AlertDeliveryError.transfer(error, channel: channel, redactor: redactor)
        }
    }

    /// The error for a response outside 2xx, or nil when it succeeded. `detail` is what the
    /// service said (a bounded excerpt of the body when nothing better is known).
    func failure(for response: CurlResponse, detail: String? = nil, retryAfterSeconds: Int? = nil) -> AlertDeliveryError? {
        let status = response.statusCode
        guard !(200...299).contains(status) else { return nil }
        var message = "server answered HTTP \(status)"
        if (300...399).contains(status) {
            message += " (a redirect; redirects are not followed, configure the final URL)"
        }
        let said = Self.excerpt(detail ?? response.bodyText)
        if !said.isEmpty { message += ": \(said)" }
        let wait = (retryAfterSeconds ?? response.retryAfterSeconds).map { Duration.seconds($0) }
        return AlertDeliveryError(
            channel: channel, reason: .status(status), message: redactor(message),
            isTransient: AlertDeliveryError.isTransient(httpStatus: status), retryAfter: wait
        )
    }

    /// One line of at most 300 characters.
    static func excerpt(_ text: String) -> String {
        let line = AlertMessage.singleLine(text).trimmingCharacters(in: .whitespaces)
        return line.count > 300 ? String(line.prefix(299)) + "…" : line
    }

    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain structs of strings cannot fail.
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }
}
