import Foundation
import PostgresClient

/// Per profile in the catalog: the newest verified backup (when, how big, how long it took) and
/// the newest passed restore drill with its measured RTO and RPO, for the dashboard and `/metrics`.
package struct BackupProfileSummary: Sendable, Codable, Equatable {
    package let profile: String
    package let verifiedFinishedAt: Date?
    package let verifiedBytes: Int64?
    package let verifiedSeconds: Double?
    package let drillFinishedAt: Date?
    /// Time the drill took to restore (RTO).
    package let drillRestoreSeconds: Double?
    /// Age of the restored snapshot when the drill ran (RPO).
    package let drillBackupAgeSeconds: Double?

    package static func load(on connection: PostgresConnection) async throws -> [BackupProfileSummary] {
        // One index probe per profile (backups_profile_finished_idx, restore_drills_backup_idx).
        let rows = try await connection.query(
            """
            SELECT p.profile, v.finished_at AS verified_at, v.bytes,
                   extract(epoch FROM v.finished_at - v.started_at)::float8 AS verified_seconds,
                   d.finished_at AS drill_at, d.restore_seconds, extract(epoch FROM d.backup_age)::float8 AS drill_age
            FROM (SELECT DISTINCT profile FROM orchestrator.backups WHERE deleted_at IS NULL) p
            LEFT JOIN LATERAL (
                SELECT started_at, finished_at, bytes FROM orchestrator.backups b
                WHERE b.profile = p.profile AND b.deleted_at IS NULL AND b.verify_status = 'passed'
                ORDER BY finished_at DESC LIMIT 1
            ) v ON true
            LEFT JOIN LATERAL (
                SELECT d.finished_at, d.restore_seconds, d.backup_age
                FROM orchestrator.restore_drills d JOIN orchestrator.backups b ON b.id = d.backup_id
                WHERE b.profile = p.profile AND d.status = 'passed'
                ORDER BY d.finished_at DESC LIMIT 1
            ) d ON true
            ORDER BY p.profile
            """
        )
        return try rows.rows.map { row in
            BackupProfileSummary(
                profile: try row.decode("profile"), verifiedFinishedAt: try row.decodeIfPresent("verified_at"),
                verifiedBytes: try row.decodeIfPresent("bytes"), verifiedSeconds: try row.decodeIfPresent("verified_seconds"),
                drillFinishedAt: try row.decodeIfPresent("drill_at"), drillRestoreSeconds: try row.decodeIfPresent("restore_seconds"),
                drillBackupAgeSeconds: try row.decodeIfPresent("drill_age")
            )
        }
    }
}
