import Foundation
import PostgresClient
import Settings

/// Per configured profile: how old its newest verified backup and newest passed drill are, and
/// whether either is older than the configuration allows (`orchestrator status`).
package struct BackupFreshness: Sendable, Codable, Equatable {
    package let profile: String
    package let newestVerifiedAt: Date?
    package let newestDrillAt: Date?
    /// Per repository of the profile's `copy_to:`: when the backup in its newest verified copy was taken.
    package let copies: [CopyFreshness]
    package let warnings: [String]

    package struct CopyFreshness: Sendable, Codable, Equatable {
        package let repository: String
        package let newestBackupAt: Date?
    }

    package static func load(configuration: Configuration, on connection: PostgresConnection, now: Date = Date()) async throws -> [BackupFreshness] {
        let settings = configuration.backups
        var result: [BackupFreshness] = []
        for profile in settings.profiles.keys.sorted() {
            let row = try await connection.query(
                "SELECT newest_verified_at, newest_drill_at FROM orchestrator.latest_backups WHERE profile = $1", [profile]
            ).first
            let verified: Date? = try row?.decodeIfPresent("newest_verified_at")
            let drilled: Date? = try row?.decodeIfPresent("newest_drill_at")
            var warnings: [String] = []
            if let verified {
                let hours = now.timeIntervalSince(verified) / 3600
                if hours > Double(settings.warnAfterHours) {
                    warnings.append("newest verified backup of \(profile) is \(Int(hours)) h old (limit \(settings.warnAfterHours) h)")
                }
            } else {
                warnings.append("profile \(profile) has no verified backup")
            }
            if let drilled {
                let days = now.timeIntervalSince(drilled) / 86_400
                if days > Double(settings.drillWarnAfterDays) {
                    warnings.append("newest restore drill of \(profile) is \(Int(days)) days old (limit \(settings.drillWarnAfterDays) days)")
                }
            } else {
                warnings.append("profile \(profile) has never passed a restore drill")
            }
            var copies: [CopyFreshness] = []
            for repository in settings.profiles[profile]?.copyTo ?? [] {
                let newest: Date? = try await connection.query(
                    "SELECT newest_backup_at AS newest FROM orchestrator.latest_copies WHERE repository = $1 AND profile = $2",
                    [repository, profile]
                ).first?.decodeIfPresent("newest")
                copies.append(CopyFreshness(repository: repository, newestBackupAt: newest))
                let limit = configuration.repositories[repository]?.warnAfterHours ?? 48
                if let newest {
                    let hours = now.timeIntervalSince(newest) / 3600
                    if hours > Double(limit) {
                        warnings.append("newest verified copy of \(profile) in \(repository) holds a backup \(Int(hours)) h old (limit \(limit) h)")
                    }
                } else {
                    warnings.append("profile \(profile) has no verified copy in \(repository)")
                }
            }
            result.append(BackupFreshness(profile: profile, newestVerifiedAt: verified, newestDrillAt: drilled, copies: copies, warnings: warnings))
        }
        return result
    }
}
