import Foundation
import Logging
import PostgresClient
import Settings

/// Applies a profile's retention: marks each backup outside every keep rule deleted in the
/// catalog (with the reason), then removes its directory. A directory whose removal failed is
/// removed by the next run.
package struct BackupPruner: Sendable {
    package struct Deletion: Sendable, Equatable, Codable {
        package let id: Int64
        package let label: String
        package let reason: String
    }

    let logger: Logger

    package init(logger: Logger) { self.logger = logger }

    package func prune(profile: String, policy: RetentionPolicy, dryRun: Bool, on connection: PostgresConnection) async throws -> [Deletion] {
        let live = try await BackupCatalog.list(profile: profile, limit: 100_000, on: connection)
        let decisions = RetentionPlanner.plan(
            live.map { .init(id: $0.id, finishedAt: $0.finishedAt, verified: $0.verifyStatus == "passed", pinned: $0.pinned) },
            policy: policy, now: Date()
        )
        let reason = RetentionPlanner.describe(policy)
        var deletions: [Deletion] = []
        for decision in decisions where !decision.keep {
            guard let record = live.first(where: { $0.id == decision.id }) else { continue }
            deletions.append(Deletion(id: record.id, label: record.label, reason: reason))
            guard !dryRun else { continue }
            try await connection.query(
                "UPDATE orchestrator.backups SET deleted_at = now(), delete_reason = $2 WHERE id = $1 AND deleted_at IS NULL",
                [record.id, reason]
            )
            remove(record.location)
        }
        if !dryRun {
            // Directories of backups deleted earlier whose removal failed.
            let leftovers = try await connection.query(
                "SELECT location FROM orchestrator.backups WHERE profile = $1 AND deleted_at IS NOT NULL", [profile]
            )
            for row in leftovers.rows {
                let location: String = try row.decode("location")
                if FileManager.default.fileExists(atPath: location) { remove(location) }
            }
        }
        return deletions
    }

    private func remove(_ location: String) {
        do {
            if FileManager.default.fileExists(atPath: location) { try FileManager.default.removeItem(atPath: location) }
            logger.info("backup deleted by retention", metadata: ["backup.location": "\(location)"])
        } catch {
            logger.error("could not remove a deleted backup's files; will retry", metadata: ["backup.location": "\(location)", "error": "\(error)"])
        }
    }
}
