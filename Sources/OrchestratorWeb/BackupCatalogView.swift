import Backups
import Foundation
import PostgresClient
import Settings

/// Per profile, the newest backups in the catalog with their verification and restore drills;
/// `/api/backups` returns it as JSON.
package struct BackupCatalogView: Sendable, Encodable {
    package struct Profile: Sendable, Encodable {
        package let profile: String
        /// Newest first, at most the page's limit.
        package let backups: [BackupRecord]
        /// The newest drills of those backups, newest first.
        package let drills: [RestoreDrillRecord]
    }

    package let generatedAt: Date
    package let profiles: [Profile]

    enum CodingKeys: String, CodingKey { case generatedAt = "generated_at", profiles }

    /// One catalog query per configured profile (`backups_profile_finished_idx`) and one for their drills.
    package static func load(configuration: Configuration, limit: Int, on connection: PostgresConnection, now: Date = Date()) async throws -> BackupCatalogView {
        var profiles: [Profile] = []
        for name in configuration.backups.profiles.keys.sorted() {
            let backups = try await BackupCatalog.list(profile: name, limit: limit, on: connection)
            profiles.append(Profile(profile: name, backups: backups, drills: []))
        }
        let drills = try await RestoreDrillRecord.load(backupIDs: profiles.flatMap { $0.backups.map(\.id) }, on: connection)
        let byBackup = Dictionary(grouping: drills, by: \.backupID)
        return BackupCatalogView(generatedAt: now, profiles: profiles.map { profile in
            Profile(profile: profile.profile, backups: profile.backups, drills: profile.backups.flatMap { byBackup[$0.id] ?? [] }.sorted { $0.finishedAt > $1.finishedAt })
        })
    }
}
