@testable import Backups
import Foundation
@testable import History
@testable import Settings
import Testing

@Suite("Backup retention")
struct RetentionPlannerTests {
    let now = try! Date("2026-11-24T12:00:00Z", strategy: .iso8601)

    /// One verified backup a day at 02:00 for `days` days, ids counting up to the newest.
    func dailyBackups(_ days: Int) -> [RetentionPlanner.Candidate] {
        (0..<days).map { age in
            let date = now.addingTimeInterval(-Double(age) * 86_400 - 10 * 3600)
            return .init(id: Int64(days - age), finishedAt: date, verified: true)
        }
    }

    func kept(_ backups: [RetentionPlanner.Candidate], _ policy: RetentionPolicy) -> [Int64] {
        RetentionPlanner.plan(backups, policy: policy, now: now).filter(\.keep).map(\.id).sorted()
    }

    @Test(arguments: [
        // (days of backups, policy, ids kept)
        (10, RetentionPolicy(keepLast: 3, minKeep: 1), [8, 9, 10]),
        (10, RetentionPolicy(keepLast: 0, keepDays: 2, minKeep: 1), [9, 10]),  // 1.4 and 0.4 days old
        (10, RetentionPolicy(keepLast: 1, daily: 4, minKeep: 1), [7, 8, 9, 10]),
        (60, RetentionPolicy(keepLast: 0, weekly: 3, minKeep: 1), [51, 58, 60]),  // Tue 24 Nov; Sun 22 Nov; Sun 15 Nov
        (100, RetentionPolicy(keepLast: 0, monthly: 3, minKeep: 1), [45, 76, 100]),  // 24 Nov, 31 Oct, 30 Sep
        (5, RetentionPolicy(keepLast: 0, minKeep: 3), [3, 4, 5]),
        (2, RetentionPolicy(keepLast: 7, minKeep: 1), [1, 2]),
    ] as [(Int, RetentionPolicy, [Int64])])
    func rulesKeepExactlyWhatTheySay(days: Int, policy: RetentionPolicy, expected: [Int64]) {
        #expect(kept(dailyBackups(days), policy) == expected)
    }

    @Test func theNewestVerifiedBackupIsNeverDeleted() {
        var backups = dailyBackups(5)
        // The three newest failed verification.
        backups = backups.map { .init(id: $0.id, finishedAt: $0.finishedAt, verified: $0.id <= 2) }
        #expect(kept(backups, RetentionPolicy(keepLast: 1, minKeep: 1)) == [2, 5])
    }

    @Test func pinnedBackupsStay() {
        var backups = dailyBackups(5)
        backups[4] = .init(id: backups[4].id, finishedAt: backups[4].finishedAt, verified: true, pinned: true)
        #expect(kept(backups, RetentionPolicy(keepLast: 1, minKeep: 1)) == [1, 5])
        let decision = RetentionPlanner.plan(backups, policy: RetentionPolicy(keepLast: 1, minKeep: 1), now: now).first { $0.id == 1 }
        #expect(decision?.keptBecause == ["pinned"])
    }
}
