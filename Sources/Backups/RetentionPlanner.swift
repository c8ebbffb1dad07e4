import Foundation
import Settings

/// Decides which backups of one profile to keep. Pure: the same backups, policy and clock give
/// the same answer, so the rules are tested over dates without touching files.
///
/// A backup is kept when any rule keeps it: `keep_last`, `keep_days`, the newest backup of each of
/// the last `daily` days / `weekly` ISO weeks / `monthly` months (UTC), pinned, or being the newest
/// verified backup. If fewer than `min_keep` remain, the newest others are kept too.
package enum RetentionPlanner {
    package struct Candidate: Sendable, Equatable {
        package let id: Int64
        package let finishedAt: Date
        package let verified: Bool
        package let pinned: Bool

        package init(id: Int64, finishedAt: Date, verified: Bool, pinned: Bool = false) {
            self.id = id
            self.finishedAt = finishedAt
            self.verified = verified
            self.pinned = pinned
        }
    }

    package struct Decision: Sendable, Equatable {
        package let id: Int64
        /// Why it is kept; empty means it is deleted.
        package let keptBecause: [String]
        package var keep: Bool { !keptBecause.isEmpty }
    }

    package static func plan(_ backups: [Candidate], policy: RetentionPolicy, now: Date) -> [Decision] {
        let newestFirst = backups.sorted { ($0.finishedAt, $0.id) > ($1.finishedAt, $1.id) }
        var reasons: [Int64: [String]] = [:]
        func keep(_ id: Int64, _ reason: String) { reasons[id, default: []].append(reason) }

        for backup in newestFirst.prefix(policy.keepLast) { keep(backup.id, "keep_last") }
        if policy.keepDays > 0 {
            let cutoff = now.addingTimeInterval(-Double(policy.keepDays) * 86_400)
            for backup in newestFirst where backup.finishedAt >= cutoff { keep(backup.id, "keep_days") }
        }
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!  // "UTC" always exists
        let tiers: [(String, Int, (Date) -> [Int])] = [
            ("daily", policy.daily, { let c = calendar.dateComponents([.year, .month, .day], from: $0); return [c.year!, c.month!, c.day!] }),
            ("weekly", policy.weekly, { let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: $0); return [c.yearForWeekOfYear!, c.weekOfYear!] }),
            ("monthly", policy.monthly, { let c = calendar.dateComponents([.year, .month], from: $0); return [c.year!, c.month!] }),
        ]
        for (name, count, bucket) in tiers where count > 0 {
            var seen: [[Int]] = []
            for backup in newestFirst {
                let key = bucket(backup.finishedAt)
                if seen.contains(key) { continue }
                seen.append(key)
                guard seen.count <= count else { break }
                keep(backup.id, name)
            }
        }
        for backup in newestFirst where backup.pinned { keep(backup.id, "pinned") }
        if let newestVerified = newestFirst.first(where: \.verified) { keep(newestVerified.id, "newest_verified") }
        var kept = newestFirst.filter { reasons[$0.id] != nil }.count
        for backup in newestFirst where kept < policy.minKeep && reasons[backup.id] == nil {
            keep(backup.id, "min_keep")
            kept += 1
        }
        return newestFirst.map { Decision(id: $0.id, keptBecause: reasons[$0.id] ?? []) }
    }

    /// `keep_last=7, keep_days=14, ...` for the deletion reason recorded in the catalog.
    package static func describe(_ policy: RetentionPolicy) -> String {
        "outside every keep rule (keep_last=\(policy.keepLast), keep_days=\(policy.keepDays), daily=\(policy.daily), weekly=\(policy.weekly), monthly=\(policy.monthly), min_keep=\(policy.minKeep))"
    }
}
