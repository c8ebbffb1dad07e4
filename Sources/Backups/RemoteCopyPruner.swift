import Foundation
import Logging
import PostgresClient
import RemoteFiles
import Settings

/// Applies a remote repository's own retention (`repositories.NAME.retention`) to one profile's
/// copies there: the same rules as local retention, decided by when each backup was taken, and
/// never the newest verified copy. A copy is marked deleted in the catalog before its directory
/// is removed; a removal that fails is retried by the next run.
package struct RemoteCopyPruner: Sendable {
    package struct Deletion: Sendable, Equatable, Codable {
        package let backupID: Int64
        package let location: String
        package let reason: String
    }

    let logger: Logger

    package init(logger: Logger) { self.logger = logger }

    package func prune(
        profile: String, repository: RemoteRepository, session: any RemoteFileSession, dryRun: Bool = false, on connection: PostgresConnection
    ) async throws -> [Deletion] {
        let present = try await BackupCopyCatalog.present(profile: profile, repository: repository.name, on: connection)
        let decisions = RetentionPlanner.plan(
            present.map { .init(id: $0.copy.id, finishedAt: $0.backup.finishedAt, verified: $0.copy.verifyStatus == "passed", pinned: $0.backup.pinned) },
            policy: repository.settings.retention, now: Date()
        )
        let reason = "\(repository.name) retention: " + RetentionPlanner.describe(repository.settings.retention)
        var deletions: [Deletion] = []
        for decision in decisions where !decision.keep {
            guard let entry = present.first(where: { $0.copy.id == decision.id }) else { continue }
            deletions.append(Deletion(backupID: entry.backup.id, location: entry.copy.location, reason: reason))
            guard !dryRun else { continue }
            try await BackupCopyCatalog.markDeleted(copyID: entry.copy.id, reason: reason, on: connection)
            await remove(entry.copy.location, session: session)
        }
        if !dryRun {
            let leftovers = try await connection.query(
                """
                SELECT c.location FROM orchestrator.backup_copies c JOIN orchestrator.backups b ON b.id = c.backup_id
                WHERE c.repository = $1 AND b.profile = $2 AND c.state = 'deleted'
                """,
                [repository.name, profile]
            )
            for row in leftovers.rows {
                let location: String = try row.decode("location")
                // Anything left there, plain or encrypted (an S3 "directory" lists empty once gone).
                if let left = try? await session.list(location), !left.isEmpty { await remove(location, session: session) }
            }
        }
        return deletions
    }

    private func remove(_ location: String, session: any RemoteFileSession) async {
        do {
            try await session.removeTree(location)
            logger.info("copy deleted by retention", metadata: ["copy.location": "\(location)"])
        } catch {
            logger.error("could not remove a deleted copy; will retry", metadata: ["copy.location": "\(location)", "error": "\(error)"])
        }
    }
}
