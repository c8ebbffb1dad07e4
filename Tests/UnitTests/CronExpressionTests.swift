@testable import Cron
import Foundation
import Testing

@Suite("Cron expressions")
struct CronExpressionTests {
    let utc = TimeZone(identifier: "UTC")!
    let berlin = TimeZone(identifier: "Europe/Berlin")!
    let newYork = TimeZone(identifier: "America/New_York")!

    func date(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    @Test(arguments: [
        ("0 2 * * *", "2026-11-24T14:00:00Z", "2026-11-25T01:00:00Z"),          // 02:00 Berlin (CET, UTC+1)
        ("0 3 * * 0", "2026-11-24T14:00:00Z", "2026-11-29T02:00:00Z"),          // Sunday 03:00
        ("0 3 * * SUN", "2026-11-24T14:00:00Z", "2026-11-29T02:00:00Z"),
        ("0 3 * * 7", "2026-11-24T14:00:00Z", "2026-11-29T02:00:00Z"),
        ("0 4 1 * *", "2026-11-24T14:00:00Z", "2026-12-01T03:00:00Z"),          // 1st of month 04:00
        ("*/15 * * * *", "2026-11-24T14:07:30Z", "2026-11-24T14:15:00Z"),
        ("30 9-17/4 * * MON-FRI", "2026-11-28T12:00:00Z", "2026-11-30T08:30:00Z"),
        ("0 0 29 2 *", "2026-11-24T00:00:00Z", "2028-02-28T23:00:00Z"),         // next Feb 29
        ("0 12 13 * FRI", "2026-11-24T00:00:00Z", "2026-11-27T11:00:00Z"),      // day-of-month OR day-of-week
        ("@weekly", "2026-11-24T14:00:00Z", "2026-11-28T23:00:00Z"),
    ])
    func nextOccurrenceInBerlin(expression: String, after: String, expected: String) throws {
        let cron = try CronExpression(expression)
        #expect(cron.next(after: date(after), in: berlin) == date(expected))
    }

    @Test func springForwardGapFiresOnceAfterTheGap() throws {
        // Berlin skips 02:00-03:00 on 2026-03-29.
        let cron = try CronExpression("30 2 * * *")
        let next = cron.next(after: date("2026-03-28T12:00:00Z"), in: berlin)
        #expect(next == date("2026-03-29T01:00:00Z"))  // 03:00 CEST, the first instant after the gap
        #expect(cron.next(after: next!, in: berlin) == date("2026-03-30T00:30:00Z"))
    }

    @Test func fallBackRepeatedHourFiresOnce() throws {
        // New York repeats 01:00-02:00 on 2026-11-01.
        let cron = try CronExpression("30 1 * * *")
        let first = try #require(cron.next(after: date("2026-10-31T12:00:00Z"), in: newYork))
        #expect(first == date("2026-11-01T05:30:00Z"))  // 01:30 EDT
        #expect(cron.next(after: first, in: newYork) == date("2026-11-02T06:30:00Z"))
    }

    @Test func occurrencesAreBoundedAndAscending() throws {
        let cron = try CronExpression("*/10 * * * *")
        let all = cron.occurrences(after: date("2026-11-24T00:00:00Z"), through: date("2026-11-24T01:00:00Z"), in: utc, limit: 100)
        #expect(all.count == 6)
        #expect(all.first == date("2026-11-24T00:10:00Z"))
        #expect(all.last == date("2026-11-24T01:00:00Z"))
        #expect(cron.occurrences(after: date("2026-11-24T00:00:00Z"), through: date("2026-11-25T00:00:00Z"), in: utc, limit: 5).count == 5)
    }

    @Test func previousOccurrence() throws {
        let cron = try CronExpression("0 4 1 * *")
        #expect(cron.previous(atOrBefore: date("2026-11-24T14:00:00Z"), in: utc) == date("2026-11-01T04:00:00Z"))
        #expect(cron.previous(atOrBefore: date("2026-11-01T04:00:00Z"), in: utc) == date("2026-11-01T04:00:00Z"))
    }

    @Test func impossibleDatesHaveNoOccurrence() throws {
        #expect(try CronExpression("0 0 31 2 *").next(after: date("2026-01-01T00:00:00Z"), in: utc) == nil)
    }

    @Test(arguments: [
        ("0 2 * *", "expected 5 fields"),
        ("60 * * * *", "minute: 60 is out of range 0-59"),
        ("0 24 * * *", "hour: 24 is out of range 0-23"),
        ("0 0 0 * *", "day-of-month: 0 is out of range 1-31"),
        ("0 0 * 13 *", "month: 13 is out of range 1-12"),
        ("0 0 * * 8", "day-of-week: 8 is out of range 0-7"),
        ("*/0 * * * *", "minute: step \"0\" must be a positive integer"),
        ("5-1 * * * *", "minute: range 5-1 is reversed"),
        ("0 0 * * FUNDAY", "day-of-week: \"FUNDAY\" is not a number or name"),
        ("@fortnightly", "unknown macro @fortnightly"),
        ("0,,5 * * * *", "minute: empty list item"),
    ])
    func invalidExpressionsNameTheField(expression: String, message: String) {
        #expect {
            _ = try CronExpression(expression)
        } throws: { error in
            (error as? CronParseError)?.message.hasPrefix(message) == true
        }
    }
}

@Suite("Cron occurrence counts")
struct CronTallyTests {
    func date(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    @Test func aMonthOfMinutesIsCountedADayAtATime() throws {
        let cron = try CronExpression("* * * * *")
        let tally = cron.tally(after: date("2026-10-01T00:00:00Z"), before: date("2026-10-31T00:00:00Z"), in: TimeZone(identifier: "UTC")!)
        #expect(tally.count == 30 * 1440 - 1)
        #expect(tally.daysExamined <= 31)
    }

    @Test func partialDaysAndRestrictedFieldsCountExactly() throws {
        let utc = TimeZone(identifier: "UTC")!
        let start = date("2026-11-02T07:13:20Z"), end = date("2026-11-23T16:40:00Z")
        for expression in ["*/7 9-17 * * MON-FRI", "0 4 1,15 * *", "59 23 * * *", "0 0 * * SUN", "* * * * *"] {
            let cron = try CronExpression(expression)
            let walked = cron.occurrences(after: start, through: end.addingTimeInterval(-1), in: utc, limit: 100_000)
            #expect(cron.tally(after: start, before: end, in: utc).count == walked.count, "\(expression)")
        }
    }
}
