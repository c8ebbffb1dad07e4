import Foundation

extension CronExpression {
    /// A count of occurrences and what it cost to compute.
    package struct Tally: Sendable, Equatable {
        package var count = 0
        /// Wall-clock days looked at; the count never walks occurrence by occurrence.
        package var daysExamined = 0
    }

    /// How many occurrences fall strictly between `start` and `end`: per stretch of constant UTC
    /// offset, the matching wall minutes counted a day at a time, with the same DST rules as `next`.
    /// A per-minute schedule over a 30-day outage costs about 30 steps, not 43,200.
    package func tally(after start: Date, before end: Date, in timeZone: TimeZone) -> Tally {
        let zone = ZoneClock(timeZone)
        var tally = Tally()
        var from = Self.minuteFloor(start) + 60
        let stop = Int((end.timeIntervalSince1970 / 60).rounded(.up)) * 60
        while from < stop {
            let offset = zone.offset(at: from)
            let change = zone.change(after: from)
            let stretchEnd = min(change ?? stop, stop)
            tally.add(matchingWalls(from: from + offset, before: stretchEnd + offset))
            if !followsClock, let repeated = zone.repeatedSpan(around: from) {
                // Fixed times in the second pass of a repeated hour ran in the first.
                let twice = matchingWalls(from: from + offset, before: min(stretchEnd, repeated.upperBound) + offset)
                tally.count -= twice.count
                tally.daysExamined += twice.daysExamined
            }
            if let change, change < stop, firesAfterGap(at: change, zone: zone),
               !matchesWall(from: change + zone.offset(at: change), before: change + zone.offset(at: change) + 60) {
                tally.count += 1
            }
            from = change ?? stop
        }
        return tally
    }

    /// Matching wall minutes in [`start`, `end`) (wall seconds, whole minutes), a day at a time.
    func matchingWalls(from start: Int, before end: Int) -> Tally {
        var tally = Tally()
        guard start < end else { return tally }
        let firstDay = WallTime.day(of: start), lastDay = WallTime.day(of: end - 1)
        for day in firstDay...lastDay {
            tally.daysExamined += 1
            let date = CivilDate.date(days: day)
            guard has(months, date.month), matchesDay(year: date.year, month: date.month, day: date.day) else { continue }
            let low = max(start - day * 86_400, 0) / 60, high = min(end - day * 86_400, 86_400) / 60
            for hour in 0..<24 where has(hours, hour) {
                let first = max(low - hour * 60, 0), last = min(high - hour * 60, 60)
                guard first < last else { continue }
                let span: UInt64 = ((1 << UInt64(last)) - 1) & ~((1 << UInt64(first)) - 1)
                tally.count += (minutes & span).nonzeroBitCount
            }
        }
        return tally
    }
}

extension CronExpression.Tally {
    mutating func add(_ other: Self) {
        count += other.count
        daysExamined += other.daysExamined
    }
}
