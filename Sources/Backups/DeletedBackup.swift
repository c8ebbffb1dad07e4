import Foundation
import PostgresClient

/// A backup retention (or an operator) deleted: its row stays in the catalog with when and why.
package struct DeletedBackup: Sendable, Codable, Equatable {
    package let id: Int64
    package let label: String
    package let finishedAt: Date
    package let bytes: Int64
    package let deletedAt: Date
    package let reason: String?

    /// The newest deletions of a profile, newest first.
    package static func recent(profile: String, limit: Int, on connection: PostgresConnection) async throws -> [DeletedBackup] {
        let result = try await connection.query(
            """
            SELECT id, label, finished_at, bytes, deleted_at, delete_reason FROM orchestrator.backups
            WHERE profile = $1 AND deleted_at IS NOT NULL
            ORDER BY deleted_at DESC, id DESC LIMIT $2
            """,
            [profile, limit]
        )
        return try result.rows.map { row in
            DeletedBackup(id: try row.decode("id"), label: try row.decode("label"), finishedAt: try row.decode("finished_at"),
                          bytes: try row.decode("bytes"), deletedAt: try row.decode("deleted_at"), reason: try row.decodeIfPresent("delete_reason"))
        }
    }
}
