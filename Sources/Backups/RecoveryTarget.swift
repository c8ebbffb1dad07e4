import Foundation

/// Where point-in-time recovery stops: a moment, a WAL position, or the end of the archive.
package enum RecoveryTarget: Sendable, Equatable, CustomStringConvertible {
    case time(Date)
    case position(WALPosition)
    case latest

    /// The recovery settings that make PostgreSQL stop there (and promote).
    var settings: [(String, String)] {
        switch self {
        case .time(let date): return [("recovery_target_time", Self.postgresTimestamp(date))]
        case .position(let position): return [("recovery_target_lsn", position.description)]
        case .latest: return []
        }
    }

    package var description: String {
        switch self {
        case .time(let date): return Self.postgresTimestamp(date)
        case .position(let position): return "LSN \(position)"
        case .latest: return "the end of the archive"
        }
    }

    /// `2026-11-30 11:02:10.123456+00`: microseconds, UTC, as PostgreSQL parses it.
    static func postgresTimestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!  // "UTC" always exists
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let micros = Int((date.timeIntervalSince1970 - floor(date.timeIntervalSince1970)) * 1_000_000)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0, micros)
    }
}
