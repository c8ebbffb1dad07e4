import Foundation

/// A Swift value sent as a query parameter, in PostgreSQL's text format.
public protocol PostgresEncodable: Sendable {
    var postgresText: String { get }
}

/// A Swift value read from a result column in PostgreSQL's text format.
public protocol PostgresDecodable: Sendable {
    init(postgresText: String) throws(PostgresError)
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { self }
    public init(postgresText: String) { self = postgresText }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init(postgresText: String) throws(PostgresError) {
        guard let value = Int(postgresText) else { throw .decoding(postgresText, as: "Int") }
        self = value
    }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init(postgresText: String) throws(PostgresError) {
        guard let value = Int64(postgresText) else { throw .decoding(postgresText, as: "Int64") }
        self = value
    }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init(postgresText: String) throws(PostgresError) {
        guard let value = Int32(postgresText) else { throw .decoding(postgresText, as: "Int32") }
        self = value
    }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init(postgresText: String) throws(PostgresError) {
        guard let value = Double(postgresText) else { throw .decoding(postgresText, as: "Double") }
        self = value
    }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { self ? "true" : "false" }
    public init(postgresText: String) throws(PostgresError) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw .decoding(postgresText, as: "Bool")
        }
    }
}

extension Date: PostgresEncodable, PostgresDecodable {
    /// Sent as an ISO 8601 timestamp with microseconds and an explicit UTC offset.
    public var postgresText: String {
        let seconds = timeIntervalSince1970
        let whole = seconds.rounded(.down)
        let micros = Int(((seconds - whole) * 1_000_000).rounded())
        let base = Date(timeIntervalSince1970: whole)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!  // "UTC" always exists
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: base)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00",
            c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0, micros
        )
    }

    /// Parses `timestamptz` output in the ISO `DateStyle` (`2026-11-24 14:36:25.123456+00`),
    /// which every connection of this client selects at connect time.
    public init(postgresText: String) throws(PostgresError) {
        if postgresText == "infinity" { self = .distantFuture; return }
        if postgresText == "-infinity" { self = .distantPast; return }
        guard let parsed = TimestampText.parse(postgresText) else { throw .decoding(postgresText, as: "Date") }
        self = parsed
    }
}

/// A PostgreSQL array literal of text, e.g. `{"a","b \"c\""}`.
extension Array: PostgresEncodable where Element == String {
    public var postgresText: String {
        let items = map { item in
            "\"" + item.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return "{" + items.joined(separator: ",") + "}"
    }
}

extension Array: PostgresDecodable where Element == String {
    /// Parses a one-dimensional `text[]` literal (`{a,"b c",NULL}`); NULL elements become "".
    public init(postgresText text: String) throws(PostgresError) {
        guard text.count >= 2, text.hasPrefix("{"), text.hasSuffix("}") else { throw .decoding(text, as: "[String]") }
        var items: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        var sawQuotes = false
        for character in text.dropFirst().dropLast() {
            if escaped { current.append(character); escaped = false; continue }
            switch character {
            case "\\" where quoted: escaped = true
            case "\"": quoted.toggle(); sawQuotes = true
            case "," where !quoted:
                items.append(!sawQuotes && current == "NULL" ? "" : current)
                current = ""
                sawQuotes = false
            default: current.append(character)
            }
        }
        if !current.isEmpty || sawQuotes || !items.isEmpty { items.append(!sawQuotes && current == "NULL" ? "" : current) }
        self = items
    }
}

/// Text that is already valid JSON, bound as a parameter (cast it with `::jsonb` in SQL).
public struct JSONText: PostgresEncodable, PostgresDecodable, Equatable {
    public let text: String
    public init(_ text: String) { self.text = text }
    public init(postgresText: String) { self.text = postgresText }
    public var postgresText: String { text }
}

extension PostgresError {
    static func decoding(_ text: String, as type: String) -> PostgresError {
        PostgresError(code: .decoding, message: "cannot decode \(text.prefix(64).debugDescription) as \(type)")
    }
}

enum TimestampText {
    static func parse(_ text: String) -> Date? {
        // yyyy-mm-dd hh:mm:ss[.ffffff][+|-hh[:mm[:ss]]]
        let chars = Array(text.utf8)
        guard chars.count >= 19, chars[4] == UInt8(ascii: "-"), chars[10] == UInt8(ascii: " ") || chars[10] == UInt8(ascii: "T") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= chars.count else { return nil }
            var value = 0
            for index in range {
                let c = chars[index]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var index = 19
        var fraction = 0.0
        if index < chars.count, chars[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < chars.count, chars[index] >= 48, chars[index] <= 57 {
                fraction += Double(chars[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        var offsetSeconds = 0
        if index < chars.count {
            let sign = chars[index] == UInt8(ascii: "-") ? -1 : 1
            guard chars[index] == UInt8(ascii: "+") || chars[index] == UInt8(ascii: "-") else { return nil }
            index += 1
            guard let hours = number(index..<(index + 2)) else { return nil }
            offsetSeconds = hours * 3600
            index += 2
            if index < chars.count, chars[index] == UInt8(ascii: ":"), let minutes = number((index + 1)..<(index + 3)) {
                offsetSeconds += minutes * 60
                index += 3
                if index < chars.count, chars[index] == UInt8(ascii: ":"), let seconds = number((index + 1)..<(index + 3)) {
                    offsetSeconds += seconds
                }
            }
            offsetSeconds *= sign
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
