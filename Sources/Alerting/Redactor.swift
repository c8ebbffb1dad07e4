import Foundation

/// Removes secrets from text before it reaches an error, a log line, a job row or the terminal.
///
/// It knows a channel's secrets: values removed wherever they appear (tokens, passwords, secret
/// header values, whole secret URLs), and the parts of the channel's URLs that may carry a
/// token (`URLSecrets`: userinfo, path segments, query values), removed where they stand as a
/// whole word, since servers echo them in error bodies (`Cannot POST /hook/<token>`). Whatever
/// it was given, it also removes the shape of a Telegram bot URL path (`/bot<token>/`).
public struct Redactor: Sendable {
    public static let mask = "[redacted]"
    private let secrets: [String]
    private let words: [String]

    /// - Parameters:
    ///   - secrets: values removed wherever they appear.
    ///   - urls: URLs whose userinfo, path segments and query values are secret.
    public init(secrets: [String] = [], urls: [String] = []) {
        self.init(secrets: secrets + urls, words: urls.flatMap(URLSecrets.parts(of:)))
    }

    private init(secrets: [String], words: [String]) {
        // Longest first, so a secret containing another is removed whole.
        self.secrets = Array(Set(secrets.filter { !$0.isEmpty })).sorted { ($0.count, $0) > ($1.count, $1) }
        self.words = Array(Set(words.filter { !$0.isEmpty })).sorted { ($0.count, $0) > ($1.count, $1) }
    }

    /// One redactor knowing the secrets of both, for text that may mention several channels.
    public func merging(_ other: Redactor) -> Redactor {
        Redactor(secrets: secrets + other.secrets, words: words + other.words)
    }

    public func callAsFunction(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: Self.mask)
        }
        for word in words where result.contains(word) {
            result = Self.replacingWhole(word, in: result)
        }
        return Self.redactBotPaths(result)
    }

    /// `/bot123456:AAE-x_y/sendMessage` → `/bot[redacted]/sendMessage`.
    static func redactBotPaths(_ text: String) -> String {
        guard text.contains("bot") else { return text }
        let pattern = /bot[0-9]+:[A-Za-z0-9_\-]+/
        return text.replacing(pattern, with: "bot" + mask)
    }

    /// Replaces `word` where no letter, digit, `-`, `_` or `%` touches it: `hook` goes in
    /// `/hook/`, `"hook"` or `hook?`, not in `webhook`.
    static func replacingWhole(_ word: String, in text: String) -> String {
        var result = ""
        var copied = text.startIndex
        var searchFrom = text.startIndex
        while let found = text.range(of: word, options: [], range: searchFrom..<text.endIndex) {
            let before = found.lowerBound > text.startIndex ? text[text.index(before: found.lowerBound)] : nil
            let after = found.upperBound < text.endIndex ? text[found.upperBound] : nil
            if !(before.map(isWordCharacter) ?? false), !(after.map(isWordCharacter) ?? false) {
                result += String(text[copied..<found.lowerBound]) + mask
                copied = found.upperBound
                searchFrom = found.upperBound
            } else {
                searchFrom = text.index(after: found.lowerBound)
            }
        }
        return result + String(text[copied...])
    }

    private static func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "-" || character == "_" || character == "%"
    }
}
