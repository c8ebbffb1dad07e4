import Foundation

/// A time zone's UTC offsets and offset changes, on whole seconds since 1970. Cron occurrences
/// are computed per stretch of constant offset: inside one, wall time is instant + offset.
struct ZoneClock {
    let zone: TimeZone

    init(_ zone: TimeZone) { self.zone = zone }

    /// Longer than any DST shift (2 h at most): how far back a change can make a wall time repeat.
    static let longestShift = 3 * 3600

    func offset(at instant: Int) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
    }

    /// The first instant after `instant` at which the offset changes.
    func change(after instant: Int) -> Int? {
        zone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: TimeInterval(instant)))
            .map { Int($0.timeIntervalSince1970.rounded(.down)) }
    }

    /// The last offset change in (`start`, `end`].
    func lastChange(after start: Int, through end: Int) -> Int? {
        guard var last = change(after: start), last <= end else { return nil }
        while let later = change(after: last), later <= end { last = later }
        return last
    }

    /// The instants whose wall time already occurred before them (the second pass of a hour
    /// repeated when clocks go back), if `instant` lies at or after the change that repeats it.
    func repeatedSpan(around instant: Int) -> Range<Int>? {
        guard let change = lastChange(after: instant - Self.longestShift, through: instant) else { return nil }
        let shift = offset(at: change - 1) - offset(at: change)
        guard shift > 0, instant < change + shift else { return nil }
        return change..<(change + shift)
    }
}
