import Foundation

/// What every channel delivers: one alert firing or resolved, or a test message.
public struct AlertMessage: Sendable, Equatable {
    public enum Severity: String, Sendable, CaseIterable, Codable {
        case info, warning, critical
    }

    public enum State: String, Sendable, CaseIterable, Codable {
        case firing, resolved
    }

    /// A named value shown with the message (`mount: /`, `used: 93 %`), in order.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Stable name of the alert (`disk-usage:/`), the same for its firing and resolved messages.
    public var alert: String
    /// One line: what is wrong (`Disk / is 93 % full`).
    public var title: String
    public var severity: Severity
    public var state: State
    /// Details, any number of lines.
    public var body: String
    public var fields: [Field]
    /// The host the alert is about.
    public var host: String
    /// When the condition was observed.
    public var time: Date

    public init(
        alert: String, title: String, severity: Severity, state: State = .firing, body: String = "",
        fields: [Field] = [], host: String, time: Date = Date()
    ) {
        self.alert = alert
        self.title = title
        self.severity = severity
        self.state = state
        self.body = body
        self.fields = fields
        self.host = host
        self.time = time
    }

    /// `[CRITICAL] Disk / is 93 % full` while firing, `[RESOLVED] Disk / is 93 % full` after.
    public var headline: String {
        let tag = state == .resolved ? "RESOLVED" : severity.rawValue.uppercased()
        return "[\(tag)] \(Self.singleLine(title))"
    }

    /// Headline, body, fields, then host and time: the text of a chat message or mail.
    public var plainText: String {
        var lines = [headline]
        let details = body.trimmingCharacters(in: .whitespacesAndNewlines)
        if !details.isEmpty { lines += ["", details] }
        if !fields.isEmpty {
            lines.append("")
            lines += fields.map { "\(Self.singleLine($0.name)): \(Self.singleLine($0.value))" }
        }
        lines += ["", "host: \(host)", "time: \(Self.timestamp(time))", "alert: \(alert)"]
        return lines.joined(separator: "\n")
    }

    /// ISO 8601 in UTC, seconds precision (`2026-11-24T23:04:28Z`).
    public static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
    }

    static func singleLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
}
