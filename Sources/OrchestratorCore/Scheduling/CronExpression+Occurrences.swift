import Foundation

extension CronExpression {
    /// Wall-clock minute in a time zone.
    struct WallTime: Equatable, Comparable {
        var year, month, day, hour, minute: Int

        static func < (a: WallTime, b: WallTime) -> Bool {
            (a.year, a.month, a.day, a.hour, a.minute) < (b.year, b.month, b.day, b.hour, b.minute)
        }
    }

    /// Searches at most this many years ahead or back (covers Feb 29 on a given weekday).
    static let searchYears = 28

    /// The first occurrence strictly after `date`. A time skipped by a DST change fires once at
    /// the first instant after the gap; a time that occurs twice fires once.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        let calendar = Self.calendar(timeZone)
        let start = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        var wall = Self.wall(of: start, calendar: calendar)
        let limit = wall.year + Self.searchYears
        while wall.year <= limit {
            guard let candidate = nextMatchingWall(from: wall) else { return nil }
            guard let instant = Self.instant(of: candidate, calendar: calendar) else { return nil }
            if instant > date { return instant }
            wall = Self.addMinute(candidate)  // repeated wall time already passed: keep looking
        }
        return nil
    }

    /// The most recent occurrence at or before `date`.
    public func previous(atOrBefore date: Date, in timeZone: TimeZone) -> Date? {
        let calendar = Self.calendar(timeZone)
        var wall = Self.wall(of: date, calendar: calendar)
        let limit = wall.year - Self.searchYears
        while wall.year >= limit {
            guard let candidate = previousMatchingWall(from: wall) else { return nil }
            guard let instant = Self.instant(of: candidate, calendar: calendar) else { return nil }
            if instant <= date { return instant }
            wall = Self.subtractMinute(candidate)
        }
        return nil
    }

    /// Occurrences in (start, end], ascending, at most `limit`.
    public func occurrences(after start: Date, through end: Date, in timeZone: TimeZone, limit: Int) -> [Date] {
        var result: [Date] = []
        var cursor = start
        while result.count < limit, let next = next(after: cursor, in: timeZone), next <= end {
            result.append(next)
            cursor = next
        }
        return result
    }

    private func has(_ bits: UInt64, _ value: Int) -> Bool { bits & (1 << UInt64(value)) != 0 }

    private func nextMatchingWall(from start: WallTime) -> WallTime? {
        var w = start
        let limit = start.year + Self.searchYears
        while w.year <= limit {
            if !has(months, w.month) {
                w = WallTime(year: w.month == 12 ? w.year + 1 : w.year, month: w.month % 12 + 1, day: 1, hour: 0, minute: 0)
                continue
            }
            if !matchesDay(year: w.year, month: w.month, day: w.day) {
                w = Self.nextDay(w)
                continue
            }
            if !has(hours, w.hour) {
                if w.hour == 23 { w = Self.nextDay(w) } else { w.hour += 1; w.minute = 0 }
                continue
            }
            if let minute = (w.minute...59).first(where: { has(minutes, $0) }) {
                w.minute = minute
                return w
            }
            if w.hour == 23 { w = Self.nextDay(w) } else { w.hour += 1; w.minute = 0 }
        }
        return nil
    }

    private func previousMatchingWall(from start: WallTime) -> WallTime? {
        var w = start
        let limit = start.year - Self.searchYears
        while w.year >= limit {
            if !has(months, w.month) {
                let month = w.month == 1 ? 12 : w.month - 1
                let year = w.month == 1 ? w.year - 1 : w.year
                w = WallTime(year: year, month: month, day: CivilDate.daysInMonth(year: year, month: month), hour: 23, minute: 59)
                continue
            }
            if !matchesDay(year: w.year, month: w.month, day: w.day) {
                w = Self.previousDay(w)
                continue
            }
            if !has(hours, w.hour) {
                if w.hour == 0 { w = Self.previousDay(w) } else { w.hour -= 1; w.minute = 59 }
                continue
            }
            if let minute = stride(from: w.minute, through: 0, by: -1).first(where: { has(minutes, $0) }) {
                w.minute = minute
                return w
            }
            if w.hour == 0 { w = Self.previousDay(w) } else { w.hour -= 1; w.minute = 59 }
        }
        return nil
    }

    private static func nextDay(_ w: WallTime) -> WallTime {
        if w.day < CivilDate.daysInMonth(year: w.year, month: w.month) {
            return WallTime(year: w.year, month: w.month, day: w.day + 1, hour: 0, minute: 0)
        }
        return WallTime(year: w.month == 12 ? w.year + 1 : w.year, month: w.month % 12 + 1, day: 1, hour: 0, minute: 0)
    }

    private static func previousDay(_ w: WallTime) -> WallTime {
        if w.day > 1 { return WallTime(year: w.year, month: w.month, day: w.day - 1, hour: 23, minute: 59) }
        let month = w.month == 1 ? 12 : w.month - 1
        let year = w.month == 1 ? w.year - 1 : w.year
        return WallTime(year: year, month: month, day: CivilDate.daysInMonth(year: year, month: month), hour: 23, minute: 59)
    }

    private static func addMinute(_ w: WallTime) -> WallTime {
        var next = w
        if next.minute < 59 { next.minute += 1; return next }
        next.minute = 0
        if next.hour < 23 { next.hour += 1; return next }
        return nextDay(w)
    }

    private static func subtractMinute(_ w: WallTime) -> WallTime {
        var previous = w
        if previous.minute > 0 { previous.minute -= 1; return previous }
        previous.minute = 59
        if previous.hour > 0 { previous.hour -= 1; return previous }
        return previousDay(w)
    }

    private static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    private static func wall(of date: Date, calendar: Calendar) -> WallTime {
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return WallTime(year: c.year ?? 1970, month: c.month ?? 1, day: c.day ?? 1, hour: c.hour ?? 0, minute: c.minute ?? 0)
    }

    /// The instant of a wall time. In a DST gap there is no such instant; the first instant
    /// after the gap is used (the job runs once, shifted, rather than being skipped).
    private static func instant(of w: WallTime, calendar: Calendar) -> Date? {
        let components = DateComponents(year: w.year, month: w.month, day: w.day, hour: w.hour, minute: w.minute)
        guard let date = calendar.date(from: components) else { return nil }
        if wall(of: date, calendar: calendar) == w { return date }
        // Not representable: find where the gap ends (the first minute whose wall time is past w).
        let hourStart = calendar.date(from: DateComponents(year: w.year, month: w.month, day: w.day, hour: w.hour)) ?? date
        var probe = hourStart.addingTimeInterval(-3600)
        for _ in 0..<(4 * 60) {
            if wall(of: probe, calendar: calendar) > w { return probe }
            probe = probe.addingTimeInterval(60)
        }
        return date
    }
}
