import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`) or a macro
/// (`@daily`), with Vixie cron semantics: when both day fields are restricted, a day matches
/// if either does.
package struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    package let source: String
    let minutes: UInt64
    let hours: UInt64
    let daysOfMonth: UInt64
    let months: UInt64
    let daysOfWeek: UInt64
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool
    /// A "wildcard" schedule in cronie's sense: its minute or hour field starts with `*` (`*`,
    /// `*/5`). At DST changes it follows the clock (both passes of a repeated hour, nothing in a
    /// skipped one); a fixed-time schedule runs once a day (first pass; right after a skipped hour).
    let followsClock: Bool

    package var description: String { source }

    static let macros = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    package init(_ text: String) throws(CronParseError) {
        source = text
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let expanded: String
        if trimmed.hasPrefix("@") {
            guard let macro = Self.macros[trimmed.lowercased()] else {
                throw CronParseError("unknown macro \(trimmed); valid: \(Self.macros.keys.sorted().joined(separator: ", "))")
            }
            expanded = macro
        } else {
            expanded = trimmed
        }
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CronParseError("expected 5 fields (minute hour day-of-month month day-of-week), got \(fields.count)")
        }
        minutes = try CronField.minute.parse(fields[0])
        hours = try CronField.hour.parse(fields[1])
        daysOfMonth = try CronField.dayOfMonth.parse(fields[2])
        months = try CronField.month.parse(fields[3])
        var weekdays = try CronField.dayOfWeek.parse(fields[4])
        if weekdays & (1 << 7) != 0 { weekdays = (weekdays | 1) & ~(UInt64(1) << 7) }  // 7 is Sunday too
        daysOfWeek = weekdays
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
        followsClock = fields[0].hasPrefix("*") || fields[1].hasPrefix("*")
    }

    func matchesDay(year: Int, month: Int, day: Int) -> Bool {
        guard day <= CivilDate.daysInMonth(year: year, month: month) else { return false }
        let domMatch = daysOfMonth & (1 << day) != 0
        let dowMatch = daysOfWeek & (1 << CivilDate.weekday(year: year, month: month, day: day)) != 0
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): return domMatch || dowMatch
        case (true, false): return domMatch
        case (false, true): return dowMatch
        case (false, false): return true
        }
    }
}

package struct CronParseError: Error, Sendable, Equatable, CustomStringConvertible {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

enum CronField {
    case minute, hour, dayOfMonth, month, dayOfWeek

    var name: String {
        switch self {
        case .minute: return "minute"
        case .hour: return "hour"
        case .dayOfMonth: return "day-of-month"
        case .month: return "month"
        case .dayOfWeek: return "day-of-week"
        }
    }

    var range: ClosedRange<Int> {
        switch self {
        case .minute: return 0...59
        case .hour: return 0...23
        case .dayOfMonth: return 1...31
        case .month: return 1...12
        case .dayOfWeek: return 0...7
        }
    }

    var names: [String: Int] {
        switch self {
        case .month:
            return ["jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12]
        case .dayOfWeek:
            return ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]
        default:
            return [:]
        }
    }

    /// A bit set of the values the field allows.
    func parse(_ text: String) throws(CronParseError) -> UInt64 {
        var bits: UInt64 = 0
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw CronParseError("\(name): empty list item in \(text.debugDescription)") }
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw CronParseError("\(name): \(part) has more than one /") }
            var step = 1
            if pieces.count == 2 {
                guard let value = Int(pieces[1]), value > 0 else {
                    throw CronParseError("\(name): step \(pieces[1].debugDescription) must be a positive integer")
                }
                step = value
            }
            let span: ClosedRange<Int>
            if pieces[0] == "*" {
                span = range.lowerBound...(self == .dayOfWeek ? 6 : range.upperBound)
            } else if let dash = pieces[0].firstIndex(of: "-") {
                let low = try value(pieces[0][..<dash])
                let high = try value(pieces[0][pieces[0].index(after: dash)...])
                guard low <= high else { throw CronParseError("\(name): range \(pieces[0]) is reversed") }
                span = low...high
            } else {
                let single = try value(pieces[0])
                // `a/n` means every n-th value from a to the end of the field.
                span = single...(pieces.count == 2 ? range.upperBound : single)
            }
            for value in stride(from: span.lowerBound, through: span.upperBound, by: step) {
                bits |= 1 << UInt64(value)
            }
        }
        return bits
    }

    private func value(_ token: Substring) throws(CronParseError) -> Int {
        let parsed = Int(token) ?? names[token.lowercased()]
        guard let parsed else { throw CronParseError("\(name): \(token.debugDescription) is not a number\(names.isEmpty ? "" : " or name")") }
        guard range.contains(parsed) else {
            throw CronParseError("\(name): \(parsed) is out of range \(range.lowerBound)-\(range.upperBound)")
        }
        return parsed
    }
}
