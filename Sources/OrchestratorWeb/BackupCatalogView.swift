import Backups
import Foundation
import PostgresClient
import Settings

/// Per profile, the newest backups in the catalog with their verification, restore drills and
/// what retention decides for each, the backups it deleted, and the size and duration of the
/// last `trendLength` backups (deleted ones included) for the charts; `/api/backups` returns it
/// as JSON.
package struct BackupCatalogView: Sendable, Encodable {
    package struct Profile: Sendable, Encodable {
        package let profile: String
        /// Newest first, at most the page's limit.
        package let backups: [BackupRecord]
        /// The newest drills of the backups in `trend`, newest first.
        package let drills: [RestoreDrillRecord]
        /// Why retention keeps each live backup today (the rule names); an empty list means the
        /// next prune deletes it.
        package let keptBecause: [String: [String]]
        /// The newest backups retention (or an operator) deleted, with the reason.
        package let deleted: [DeletedBackup]
        /// The listed backups' copies in remote repositories (not deleted ones), by backup id.
        package let copies: [String: [BackupCopyRecord]]
        /// The last backups, oldest first: the charts' points.
        package let trend: [TrendPoint]

        enum CodingKeys: String, CodingKey { case profile, backups, drills, keptBecause = "kept_because", deleted, trend, copies }
    }

    package struct TrendPoint: Sendable, Encodable {
        package let id: Int64
        package let finishedAt: Date
        package let bytes: Int64
        package let seconds: Double
        enum CodingKeys: String, CodingKey { case id, finishedAt = "finished_at", bytes, seconds }
    }

    package static let trendLength = 60
    package static let deletedShown = 10

    package let generatedAt: Date
    package let profiles: [Profile]

    enum CodingKeys: String, CodingKey { case generatedAt = "generated_at", profiles }

    /// Per configured profile: the catalog's page (`backups_profile_finished_idx`), the live
    /// backups retention weighs, the trend and the deletions; then one query for the drills.
    package static func load(configuration: Configuration, limit: Int, on connection: PostgresConnection, now: Date = Date()) async throws -> BackupCatalogView {
        var partial: [(name: String, backups: [BackupRecord], kept: [String: [String]], deleted: [DeletedBackup], trend: [BackupRecord])] = []
        for name in configuration.backups.profiles.keys.sorted() {
            let backups = try await BackupCatalog.list(profile: name, limit: limit, on: connection)
            let live = try await BackupCatalog.list(profile: name, limit: 100_000, on: connection)
            let decisions = RetentionPlanner.plan(
                live.map { .init(id: $0.id, finishedAt: $0.finishedAt, verified: $0.verifyStatus == "passed", pinned: $0.pinned) },
                policy: configuration.backups.profiles[name]?.retention ?? RetentionPolicy(), now: now
            )
            let listed = Set(backups.map(\.id))
            let kept = Dictionary(uniqueKeysWithValues: decisions.filter { listed.contains($0.id) }.map { (String($0.id), $0.keptBecause) })
            let trend = try await BackupCatalog.list(profile: name, includeDeleted: true, limit: trendLength, on: connection)
            let deleted = try await DeletedBackup.recent(profile: name, limit: deletedShown, on: connection)
            partial.append((name, backups, kept, deleted, trend))
        }
        let drills = try await RestoreDrillRecord.load(backupIDs: partial.flatMap { $0.trend.map(\.id) + $0.backups.map(\.id) }.uniqued(), on: connection)
        let byBackup = Dictionary(grouping: drills, by: \.backupID)
        let copies = Dictionary(grouping: try await BackupCopyCatalog.live(backupIDs: partial.flatMap { $0.backups.map(\.id) }, on: connection), by: \.backupID)
        return BackupCatalogView(generatedAt: now, profiles: partial.map { profile in
            let ids = Set(profile.trend.map(\.id) + profile.backups.map(\.id))
            return Profile(
                profile: profile.name, backups: profile.backups,
                drills: ids.flatMap { byBackup[$0] ?? [] }.sorted { ($0.finishedAt, $0.id) > ($1.finishedAt, $1.id) },
                keptBecause: profile.kept, deleted: profile.deleted,
                copies: Dictionary(uniqueKeysWithValues: profile.backups.compactMap { backup in copies[backup.id].map { (String(backup.id), $0) } }),
                trend: profile.trend.reversed().map {
                    TrendPoint(id: $0.id, finishedAt: $0.finishedAt, bytes: $0.bytes, seconds: $0.finishedAt.timeIntervalSince($0.startedAt))
                }
            )
        })
    }
}

private extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
