@testable import Cron
import Foundation
import Testing

/// DST changes follow cronie: a schedule with `*` in its minute or hour field follows the clock,
/// a fixed-time schedule runs once a day.
@Suite("Cron expressions at DST changes")
struct CronDaylightSavingTests {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!

    static func date(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    /// Every occurrence in [start, end), walked with `next`.
    static func walk(_ cron: CronExpression, from start: Date, to end: Date, in zone: TimeZone) -> [Date] {
        var result: [Date] = []
        var cursor = start.addingTimeInterval(-1)
        while let next = cron.next(after: cursor, in: zone), next < end {
            result.append(next)
            cursor = next
        }
        return result
    }

    // 2026-10-25 in Berlin: 02:00-03:00 happens twice (00:00-01:00Z as CEST, 01:00-02:00Z as CET).
    static let autumnDay = (date("2026-10-24T22:00:00Z"), date("2026-10-25T23:00:00Z"))

    @Test(arguments: [
        ("0 * * * *", 25), ("@hourly", 25), ("*/5 * * * *", 300), ("* 2 * * *", 120), ("*/30 */2 * * *", 26),
        ("30 2 * * *", 1), ("0 2 * * *", 1), ("15,45 2 * * *", 2), ("0 0-23 * * *", 24), ("@daily", 1),
    ])
    func repeatedHourRunsTwiceOnlyForClockFollowingSchedules(expression: String, runs: Int) throws {
        let occurrences = Self.walk(try CronExpression(expression), from: Self.autumnDay.0, to: Self.autumnDay.1, in: Self.berlin)
        #expect(occurrences.count == runs)
        #expect(Set(occurrences).count == occurrences.count)
    }

    @Test func bothPassesOfTheRepeatedHourAreDistinctInstants() throws {
        let hourly = Self.walk(try CronExpression("0 * * * *"), from: Self.autumnDay.0, to: Self.autumnDay.1, in: Self.berlin)
        #expect(hourly.contains(Self.date("2026-10-25T00:00:00Z")))  // 02:00 CEST
        #expect(hourly.contains(Self.date("2026-10-25T01:00:00Z")))  // 02:00 CET
        let fixed = Self.walk(try CronExpression("30 2 * * *"), from: Self.autumnDay.0, to: Self.autumnDay.1, in: Self.berlin)
        #expect(fixed == [Self.date("2026-10-25T00:30:00Z")])  // the first pass only
    }

    // 2026-03-29 in Berlin: 02:00-03:00 does not exist (01:00Z is 03:00 CEST).
    static let springDay = (date("2026-03-28T23:00:00Z"), date("2026-03-29T22:00:00Z"))

    @Test(arguments: [
        ("0 * * * *", 23), ("*/5 * * * *", 276), ("30 * * * *", 23), ("* 2 * * *", 0),
        ("30 2 * * *", 1), ("15,45 2 * * *", 1), ("0 3 * * *", 1), ("0 0-23 * * *", 23),
    ])
    // Fixed times in the gap run at 03:00 CEST; one instant is one occurrence, so `15,45 2` and
    // the 02:00 and 03:00 of `0 0-23` run once there.
    func skippedHourRunsFixedTimesRightAfterAndSkipsClockFollowingOnes(expression: String, runs: Int) throws {
        let occurrences = Self.walk(try CronExpression(expression), from: Self.springDay.0, to: Self.springDay.1, in: Self.berlin)
        #expect(occurrences.count == runs)
    }

    @Test func aFixedTimeInTheSkippedHourRunsAtTheFirstInstantAfterIt() throws {
        let after = Self.date("2026-03-29T01:00:00Z")  // 03:00 CEST
        let fixed = Self.walk(try CronExpression("30 2 * * *"), from: Self.springDay.0, to: Self.springDay.1, in: Self.berlin)
        #expect(fixed == [after])
        let wildcard = Self.walk(try CronExpression("30 * * * *"), from: Self.springDay.0, to: Self.springDay.1, in: Self.berlin)
        #expect(!wildcard.contains(after))
        #expect(wildcard.contains(Self.date("2026-03-29T00:30:00Z")) && wildcard.contains(Self.date("2026-03-29T01:30:00Z")))
    }

    /// `previous` and `tally` agree with `next` occurrence by occurrence around every kind of
    /// change: one-hour shifts both ways, in both hemispheres, and Lord Howe's half hour.
    @Test(arguments: [
        ("Europe/Berlin", "2026-10-24T12:00:00Z"), ("Europe/Berlin", "2026-03-28T12:00:00Z"),
        ("America/New_York", "2026-10-31T12:00:00Z"), ("America/New_York", "2026-03-07T12:00:00Z"),
        ("Australia/Sydney", "2026-04-04T00:00:00Z"), ("Australia/Sydney", "2026-10-03T00:00:00Z"),
        ("Australia/Lord_Howe", "2026-04-04T00:00:00Z"), ("Australia/Lord_Howe", "2026-10-03T00:00:00Z"),
    ])
    func previousAndTallyAgreeWithNext(zoneName: String, start: String) throws {
        let zone = try #require(TimeZone(identifier: zoneName))
        let from = Self.date(start), to = from.addingTimeInterval(2 * 86_400)
        for expression in ["0 * * * *", "*/7 * * * *", "* 1-3 * * *", "30 2 * * *", "15,45 1,2 * * *", "0 0-23/2 * * *", "10 3 * * *"] {
            let cron = try CronExpression(expression)
            let occurrences = Self.walk(cron, from: from, to: to, in: zone)
            #expect(!occurrences.isEmpty, "\(expression) in \(zoneName)")
            for (index, occurrence) in occurrences.enumerated() {
                #expect(cron.previous(atOrBefore: occurrence, in: zone) == occurrence, "\(expression) in \(zoneName)")
                if index > 0 {
                    #expect(cron.previous(atOrBefore: occurrence.addingTimeInterval(-1), in: zone) == occurrences[index - 1], "\(expression) in \(zoneName)")
                }
            }
            let first = try #require(occurrences.first), last = try #require(occurrences.last)
            #expect(cron.tally(after: first, before: last, in: zone).count == occurrences.count - 2, "\(expression) in \(zoneName)")
            #expect(cron.tally(after: from.addingTimeInterval(-1), before: to, in: zone).count == occurrences.count, "\(expression) in \(zoneName)")
        }
    }
}
