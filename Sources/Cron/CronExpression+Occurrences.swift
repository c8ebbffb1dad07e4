import Foundation

/// Occurrences are instants. Time is walked in stretches of constant UTC offset; at a DST change
/// the schedule behaves as cronie does: when clocks go back, a schedule that follows the clock
/// (`*` in minute or hour) fires in both passes of the repeated hour and a fixed-time one only in
/// the first; when clocks go forward, a fixed-time occurrence in the skipped hour fires once at
/// the first instant after it and a clock-following one just has no such minutes.
extension CronExpression {
    /// Searches at most this many years ahead or back (covers Feb 29 on a given weekday).
    static let searchYears = 28
    static let searchSeconds = searchYears * 366 * 86_400

    /// The first occurrence strictly after `date`.
    package func next(after date: Date, in timeZone: TimeZone) -> Date? {
        let zone = ZoneClock(timeZone)
        var from = Self.minuteFloor(date) + 60
        let limit = from + Self.searchSeconds
        while from <= limit {
            let offset = zone.offset(at: from)
            let change = zone.change(after: from)
            guard let wall = nextMatchingWall(from: WallTime(wallSeconds: from + offset)) else { return nil }
            let instant = wall.wallSeconds - offset
            if instant < change ?? .max {
                if followsClock || zone.repeatedSpan(around: instant) == nil { return Self.date(instant) }
                from = instant + 60  // a fixed time already run in the first pass
                continue
            }
            guard let change else { return nil }
            if firesAfterGap(at: change, zone: zone) { return Self.date(change) }
            from = change
        }
        return nil
    }

    /// The most recent occurrence at or before `date`.
    package func previous(atOrBefore date: Date, in timeZone: TimeZone) -> Date? {
        let zone = ZoneClock(timeZone)
        var to = Self.minuteFloor(date)
        let limit = to - Self.searchSeconds
        while to >= limit {
            let offset = zone.offset(at: to)
            guard let wall = previousMatchingWall(from: WallTime(wallSeconds: to + offset)) else { return nil }
            let instant = wall.wallSeconds - offset
            if let start = zone.lastChange(after: instant, through: to) {
                // Nothing matches since the offset last changed: look at the change, then before it.
                if firesAfterGap(at: start, zone: zone) { return Self.date(start) }
                to = Self.minuteFloor(Self.date(start - 1))
                continue
            }
            if followsClock || zone.repeatedSpan(around: instant) == nil { return Self.date(instant) }
            to = instant - 60
        }
        return nil
    }

    /// Occurrences in (start, end], ascending, at most `limit`.
    package func occurrences(after start: Date, through end: Date, in timeZone: TimeZone, limit: Int) -> [Date] {
        var result: [Date] = []
        var cursor = start
        while result.count < limit, let next = next(after: cursor, in: timeZone), next <= end {
            result.append(next)
            cursor = next
        }
        return result
    }

    /// Whether a fixed-time schedule fires at `change` for a wall time the change skipped (and
    /// not already for the wall time the change lands on, which is an ordinary occurrence).
    func firesAfterGap(at change: Int, zone: ZoneClock) -> Bool {
        guard !followsClock else { return false }
        let before = zone.offset(at: change - 1), after = zone.offset(at: change)
        return after > before && matchesWall(from: change + before, before: change + after)
    }

    static func minuteFloor(_ date: Date) -> Int { Int((date.timeIntervalSince1970 / 60).rounded(.down)) * 60 }

    static func date(_ seconds: Int) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }
}
