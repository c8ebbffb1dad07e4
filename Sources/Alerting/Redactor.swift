import Foundation

/// Removes secrets from text before it reaches an error, a log line or a job row.
///
/// It knows the channel's own secrets (tokens, passwords, secret header values, secret URLs)
/// and, whatever it was given, the shape of a Telegram bot URL path (`/bot<token>/`).
public struct Redactor: Sendable {
    public static let mask = "[redacted]"
    private let secrets: [String]

    public init(secrets: [String] = []) {
        // Longest first, so a secret containing another is removed whole.
        self.secrets = Array(Set(secrets.filter { !$0.isEmpty })).sorted { $0.count > $1.count }
    }

    public func callAsFunction(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: Self.mask)
        }
        return Self.redactBotPaths(result)
    }

    /// `/bot123456:AAE-x_y/sendMessage` → `/bot[redacted]/sendMessage`.
    static func redactBotPaths(_ text: String) -> String {
        guard text.contains("bot") else { return text }
        let pattern = /bot[0-9]+:[A-Za-z0-9_\-]+/
        return text.replacing(pattern, with: "bot" + mask)
    }
}
