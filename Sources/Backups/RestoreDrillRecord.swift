import Foundation
import PostgresClient

/// A restore drill as recorded in `orchestrator.restore_drills` (the dashboard's backup catalog).
package struct RestoreDrillRecord: Sendable, Codable, Equatable {
    package let id: Int64
    package let backupID: Int64
    package let jobID: Int64?
    package let startedAt: Date
    package let finishedAt: Date
    package let status: String
    /// Time the drill took to restore (RTO).
    package let restoreSeconds: Double?
    /// Age of the restored snapshot when the drill ran (RPO).
    package let backupAgeSeconds: Double?
    package let tablesChecked: Int
    package let error: String?
    /// The remote repository the drilled copy came from; nil for this host's own backup.
    package var repository: String? = nil

    /// The newest `perBackup` drills of each of these backups, newest first: one probe of
    /// `restore_drills_backup_idx` per backup.
    package static func load(backupIDs: [Int64], perBackup: Int = 5, on connection: PostgresConnection) async throws -> [RestoreDrillRecord] {
        guard !backupIDs.isEmpty else { return [] }
        let result = try await connection.query(
            """
            SELECT d.id, d.backup_id, d.job_id, d.started_at, d.finished_at, d.status, d.restore_seconds,
                   extract(epoch FROM d.backup_age)::float8 AS backup_age, d.tables_checked, d.error, d.repository
            FROM unnest($1::int8[]) AS b(id)
            CROSS JOIN LATERAL (
                SELECT * FROM orchestrator.restore_drills r WHERE r.backup_id = b.id ORDER BY r.finished_at DESC LIMIT $2
            ) d
            ORDER BY d.finished_at DESC
            """,
            // Ids travel as a text array literal (the client encodes arrays of text only) and are cast.
            [backupIDs.map(String.init), perBackup]
        )
        return try result.rows.map { row in
            RestoreDrillRecord(
                id: try row.decode("id"), backupID: try row.decode("backup_id"), jobID: try row.decodeIfPresent("job_id"),
                startedAt: try row.decode("started_at"), finishedAt: try row.decode("finished_at"), status: try row.decode("status"),
                restoreSeconds: try row.decodeIfPresent("restore_seconds"), backupAgeSeconds: try row.decodeIfPresent("backup_age"),
                tablesChecked: try row.decode("tables_checked"), error: try row.decodeIfPresent("error"),
                repository: try row.decodeIfPresent("repository")
            )
        }
    }
}
