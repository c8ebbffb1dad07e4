import Foundation

/// Text formatting shared by alert summaries: one line, minutes or hours, ISO 8601 times.
enum AlertMessageText {
    static func line(_ text: String, limit: Int) -> String {
        let single = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return single.count > limit ? String(single.prefix(limit - 1)) + "…" : single
    }

    static func minutes(_ minutes: Int) -> String {
        minutes >= 120 ? "\(minutes / 60) h" : "\(minutes) min"
    }

    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
    }
}
