import Foundation

/// An RFC 5322 plain-text message: headers and body with CRLF line endings.
///
/// Dot transparency (a body line starting with `.`) is left to libcurl, which doubles the dot
/// on the wire as RFC 5321 requires; doing it here too would double it twice.
struct MailMessage: Sendable {
    var from: String
    var to: [String]
    var subject: String
    var body: String
    var date: Date
    var messageID: String
    /// Extra headers (`X-Orchestrator-Alert`), already single-line.
    var headers: [(String, String)] = []

    /// RFC 5322 allows 998 characters per line; longer body lines are split.
    static let maxLineBytes = 998

    func rendered() -> [UInt8] {
        var lines = [
            "Date: \(Self.rfc5322Date(date))",
            "From: \(from)",
            "To: \(to.joined(separator: ", "))",
            "Subject: \(Self.encodedHeaderValue(subject))",
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "Auto-Submitted: auto-generated",
        ]
        lines += headers.map { "\($0.0): \(Self.encodedHeaderValue($0.1))" }
        lines.append("")
        lines += Self.bodyLines(body)
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// Body lines with any line ending (LF, CR, CRLF) normalised and long lines split.
    static func bodyLines(_ body: String) -> [String] {
        let normalized = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var result: [String] = []
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            var rest = Substring(line)
            while rest.utf8.count > maxLineBytes {
                var cut = rest.startIndex
                var bytes = 0
                for index in rest.indices {
                    let size = rest[index].utf8.count
                    if bytes + size > maxLineBytes { break }
                    bytes += size
                    cut = rest.index(after: index)
                }
                result.append(String(rest[..<cut]))
                rest = rest[cut...]
            }
            result.append(String(rest))
        }
        return result
    }

    /// `Tue, 24 Nov 2026 23:04:28 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }

    /// One line; RFC 2047 base64 encoded words when it is not plain ASCII.
    static func encodedHeaderValue(_ value: String) -> String {
        let line = AlertMessage.singleLine(value)
        let clipped = line.count > 200 ? String(line.prefix(199)) + "…" : line
        guard !clipped.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F }) else { return clipped }
        // Encoded words of at most 75 characters: 45 bytes of UTF-8 become 60 of base64.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in clipped {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// `<uuid@domain>`, the domain taken from the sender address.
    static func newMessageID(from address: String) -> String {
        let domain = address.split(separator: "@").last.map(String.init) ?? "localhost"
        return "<\(UUID().uuidString.lowercased())@\(domain)>"
    }
}
