extension CronExpression {
    /// Wall-clock minute in a time zone.
    struct WallTime: Equatable, Comparable {
        var year, month, day, hour, minute: Int

        static func < (a: WallTime, b: WallTime) -> Bool {
            (a.year, a.month, a.day, a.hour, a.minute) < (b.year, b.month, b.day, b.hour, b.minute)
        }

        /// The wall time `seconds` after 1970-01-01 00:00 on the wall clock (seconds dropped).
        init(wallSeconds seconds: Int) {
            let days = Self.day(of: seconds)
            let date = CivilDate.date(days: days)
            let minuteOfDay = (seconds - days * 86_400) / 60
            self.init(year: date.year, month: date.month, day: date.day, hour: minuteOfDay / 60, minute: minuteOfDay % 60)
        }

        /// Days since 1970-01-01 of a wall time in wall seconds (rounding down before 1970).
        static func day(of wallSeconds: Int) -> Int {
            wallSeconds >= 0 ? wallSeconds / 86_400 : -((-wallSeconds + 86_399) / 86_400)
        }

        init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
            (self.year, self.month, self.day, self.hour, self.minute) = (year, month, day, hour, minute)
        }

        /// Seconds since 1970-01-01 00:00 on the wall clock: the instant is this minus the UTC offset.
        var wallSeconds: Int {
            CivilDate.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60
        }
    }

    func has(_ bits: UInt64, _ value: Int) -> Bool { bits & (1 << UInt64(value)) != 0 }

    /// Whether any wall minute in [`start`, `end`) (wall seconds) matches.
    func matchesWall(from start: Int, before end: Int) -> Bool {
        guard start < end, let wall = nextMatchingWall(from: WallTime(wallSeconds: start)) else { return false }
        return wall.wallSeconds < end
    }

    func nextMatchingWall(from start: WallTime) -> WallTime? {
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

    func previousMatchingWall(from start: WallTime) -> WallTime? {
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
}
