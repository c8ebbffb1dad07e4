import Archiving
import Foundation
import PostgresClient
import WALArchive

/// What point-in-time restore can reach now: from the end of the oldest verified base backup to
/// about when the newest archived segment was stored, and the holes in between (a gap in the
/// archive after a backup's start cuts that backup off from every moment after the gap).
package struct RecoveryWindow: Sendable, Encodable {
    package let earliest: Date?
    package let oldestBackupID: Int64?
    package let newestBackupID: Int64?
    package let newestBackupAt: Date?
    package let backups: Int
    package let latestArchived: Date?
    package let segments: Int64
    /// Gaps positioned after the oldest kept base backup's first segment, as "after X: missing Y".
    package let gaps: [String]

    enum CodingKeys: String, CodingKey {
        case earliest, oldestBackupID = "oldest_backup_id", newestBackupID = "newest_backup_id", newestBackupAt = "newest_backup_at"
        case backups, latestArchived = "latest_archived", segments, gaps
    }

    package static func read(repository root: String, on connection: PostgresConnection) async throws -> RecoveryWindow {
        let rows = try await connection.query(
            """
            SELECT id, finished_at, start_wal FROM orchestrator.backups
            WHERE method = 'physical' AND deleted_at IS NULL AND verify_status = 'passed'
            ORDER BY start_lsn
            """
        ).rows
        let oldest = rows.first
        let newest = rows.last
        let repository = try WALRepository(root: root)
        let scan = try await Archiver.run { try WALRepositoryScan.scan(repository) }
        let startWAL: String? = try oldest?.decode("start_wal")
        let position = { (name: String) in String(name.utf8.dropFirst(8).prefix(16))! }
        let gaps = scan.gaps.filter { entry in startWAL.map { position(entry.gap.after) >= position($0) } ?? true }
            .map { "after \($0.gap.after): missing \($0.gap.missingText)" }
        return RecoveryWindow(
            earliest: try oldest?.decode("finished_at"), oldestBackupID: try oldest?.decode("id"), newestBackupID: try newest?.decode("id"),
            newestBackupAt: try newest?.decode("finished_at"), backups: rows.count, latestArchived: scan.newestModified,
            segments: scan.segments, gaps: gaps
        )
    }
}
