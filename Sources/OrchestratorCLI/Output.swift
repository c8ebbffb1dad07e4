import Foundation

/// Plain-text tables and JSON for command output.
enum Output {
    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)))
        }
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Left-aligned columns separated by two spaces; cells are shortened past `maxWidth`.
    static func table(_ headers: [String], _ rows: [[String]], maxWidth: Int = 60) -> String {
        let clipped = rows.map { $0.map { $0.count > maxWidth ? String($0.prefix(maxWidth - 1)) + "…" : $0 } }
        var widths = headers.map(\.count)
        for row in clipped {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(headers)] + clipped.map(line)).joined(separator: "\n")
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        return date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon).timeZone(separator: .omitted))
    }

    static func ago(_ date: Date?, now: Date = Date()) -> String {
        guard let date else { return "-" }
        let seconds = Int(now.timeIntervalSince(date))
        switch abs(seconds) {
        case ..<120: return seconds >= 0 ? "\(seconds)s ago" : "in \(-seconds)s"
        case ..<7200: return seconds >= 0 ? "\(seconds / 60)m ago" : "in \(-seconds / 60)m"
        case ..<172_800: return seconds >= 0 ? "\(seconds / 3600)h ago" : "in \(-seconds / 3600)h"
        default: return seconds >= 0 ? "\(seconds / 86400)d ago" : "in \(-seconds / 86400)d"
        }
    }
}
