import Archiving
import Foundation
import Logging
import PostgresClient
import Settings
import WALArchive

/// Keeps the WAL archive as long as the base backups: after base-backup retention, archived WAL
/// positioned before the oldest kept physical backup's first segment is removed. Nothing is
/// removed while no physical backup is kept (the archive may be all there is).
package struct WALRetention: Sendable {
    package struct Outcome: Sendable, Equatable {
        /// The first segment still needed, or nil when nothing was pruned for lack of a kept base backup.
        package let firstNeeded: String?
        package let removed: WALPruner.Result
    }

    let logger: Logger

    package init(logger: Logger) { self.logger = logger }

    package func prune(repository root: String, dryRun: Bool, on connection: PostgresConnection) async throws -> Outcome {
        let oldest = try await connection.query(
            """
            SELECT start_wal FROM orchestrator.backups
            WHERE method = 'physical' AND deleted_at IS NULL
            ORDER BY start_lsn LIMIT 1
            """
        ).first
        guard let startWAL: String = try oldest?.decode("start_wal") else {
            logger.info("no physical backup is kept; the WAL archive is not pruned")
            return Outcome(firstNeeded: nil, removed: .init())
        }
        let first = try WALFileName(startWAL)
        let repository = try WALRepository(root: root)
        let removed = try await Archiver.run { try WALPruner.remove(before: first, in: repository, dryRun: dryRun) }
        if removed.files > 0 {
            logger.info("archived WAL older than every kept base backup removed", metadata: [
                "wal.first_needed": "\(startWAL)", "wal.removed_files": "\(removed.files)", "wal.removed_bytes": "\(removed.bytes)",
            ])
        }
        return Outcome(firstNeeded: startWAL, removed: removed)
    }
}
