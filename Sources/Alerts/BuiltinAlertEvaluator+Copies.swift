import Foundation
import PostgresClient
import Settings

extension BuiltinAlertEvaluator {
    /// `copy_stale`, per profile and repository of its `copy_to:`: the newest copy that is
    /// present and passed its last reading back holds a backup taken longer ago than allowed, or
    /// there is none. The backup's age, not the copy's: a copy made today of last week's backup
    /// still loses a week.
    func staleCopies(now: Date, on connection: PostgresConnection) async throws -> [AlertCondition] {
        var conditions: [AlertCondition] = []
        for (profile, settings) in configuration.backups.profiles.sorted(by: { $0.key < $1.key }) {
            for repository in settings.copyTo {
                let hours = self.settings.copyStale.limit ?? configuration.repositories[repository]?.warnAfterHours ?? 48
                let limit = TimeInterval(hours * 3600)
                let newest: Date? = try await connection.query(
                    "SELECT newest_backup_at AS newest FROM orchestrator.latest_copies WHERE repository = $1 AND profile = $2",
                    [repository, profile]
                ).first?.decodeIfPresent("newest")
                guard newest.map({ now.timeIntervalSince($0) > limit }) ?? true else { continue }
                let age = newest.map { Int(now.timeIntervalSince($0) / 3600) }
                conditions.append(AlertCondition(
                    rule: "copy_stale", source: .builtin, subject: "\(profile)@\(repository)", host: "", severity: self.settings.copyStale.severity,
                    value: age.map(Double.init), threshold: Double(hours),
                    summary: age.map { "Newest verified copy of \(profile) in \(repository) holds a backup \($0) h old (limit \(hours) h)" }
                        ?? "Profile \(profile) has no verified copy in \(repository)",
                    details: newest.map { ["newest_copied_backup_at": .string(AlertMessageText.iso($0))] } ?? [:],
                    firstSeenAt: newest.map { min($0.addingTimeInterval(limit), now) } ?? now
                ))
            }
        }
        return conditions
    }
}
