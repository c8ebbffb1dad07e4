import Foundation
import PostgresClient
import Settings

/// A backup's copy in a remote repository, as recorded in `orchestrator.backup_copies`.
package struct BackupCopyRecord: Sendable, Codable, Equatable {
    package let id: Int64
    package let backupID: Int64
    package let repository: String
    /// `<profile>/<label>` under the repository's path.
    package let location: String
    package let state: String
    package let jobID: Int64?
    package let startedAt: Date
    package let copiedAt: Date?
    package let bytes: Int64
    package let bytesSent: Int64
    package let verifiedAt: Date?
    package let verifyStatus: String?
    package let verifyError: String?
    /// Why the last attempt stopped short; nil once the copy completed.
    package let lastError: String?
    package let deletedAt: Date?
    package let deleteReason: String?
    /// Every file was encrypted to the profile's `encrypt_to:` recipients before it was sent.
    package let encrypted: Bool
    /// SHA-256 of the encrypted copy's `encryption.json`, recorded before the copy is committed.
    package let encryptionSHA256: String?

    static let columns = """
        id, backup_id, repository, location, state, job_id, started_at, copied_at, bytes, bytes_sent,
        verified_at, verify_status, verify_error, last_error, deleted_at, delete_reason, encrypted, encryption_sha256
        """

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        backupID = try row.decode("backup_id")
        repository = try row.decode("repository")
        location = try row.decode("location")
        state = try row.decode("state")
        jobID = try row.decodeIfPresent("job_id")
        startedAt = try row.decode("started_at")
        copiedAt = try row.decodeIfPresent("copied_at")
        bytes = try row.decode("bytes")
        bytesSent = try row.decode("bytes_sent")
        verifiedAt = try row.decodeIfPresent("verified_at")
        verifyStatus = try row.decodeIfPresent("verify_status")
        verifyError = try row.decodeIfPresent("verify_error")
        lastError = try row.decodeIfPresent("last_error")
        deletedAt = try row.decodeIfPresent("deleted_at")
        deleteReason = try row.decodeIfPresent("delete_reason")
        encrypted = try row.decode("encrypted")
        encryptionSHA256 = try row.decodeIfPresent("encryption_sha256")
    }

    package var isPresent: Bool { state == "present" }

    /// Where a backup's copies are, for listings: `offsite` for a verified copy; `offsite
    /// (copying)`, `offsite (copying, last attempt failed)` or `offsite (failed check)`
    /// otherwise; `-` without copies.
    package static func summary(of copies: [BackupCopyRecord]) -> String {
        guard !copies.isEmpty else { return "-" }
        return copies.sorted { $0.repository < $1.repository }.map { copy in
            if copy.isPresent { return copy.verifyStatus == "failed" ? "\(copy.repository) (failed check)" : copy.repository }
            return copy.lastError == nil ? "\(copy.repository) (\(copy.state))" : "\(copy.repository) (\(copy.state), last attempt failed)"
        }.joined(separator: ", ")
    }
}

/// The SQL of the copy catalog.
package enum BackupCopyCatalog {
    /// Marks a copy as under way (a new row, or the row an interrupted or deleted copy left),
    /// before the first byte is sent: a copy the catalog does not know never exists remotely.
    package static func begin(
        backupID: Int64, repository: String, location: String, encrypted: Bool, jobID: Int64?, on connection: PostgresConnection
    ) async throws -> BackupCopyRecord {
        let result = try await connection.query(
            """
            INSERT INTO orchestrator.backup_copies (backup_id, repository, location, state, job_id, encrypted)
            VALUES ($1, $2, $3, 'copying', $4, $5)
            ON CONFLICT (backup_id, repository) DO UPDATE
                SET state = 'copying', location = EXCLUDED.location, job_id = EXCLUDED.job_id, started_at = now(), copied_at = NULL,
                    verified_at = NULL, verify_status = NULL, verify_error = NULL, deleted_at = NULL, delete_reason = NULL,
                    encrypted = EXCLUDED.encrypted,
                    encryption_sha256 = CASE WHEN backup_copies.encrypted = EXCLUDED.encrypted THEN backup_copies.encryption_sha256 END
            RETURNING \(BackupCopyRecord.columns)
            """,
            [backupID, repository, location, jobID, encrypted]
        )
        return try BackupCopyRecord(row: result.single())
    }

    /// The copy is complete, read back and committed: present, with the verification that proved it.
    package static func complete(
        copyID: Int64, bytes: Int64, bytesSent: Int64, jobID: Int64?, verifiedFrom: Date, files: Int, on connection: PostgresConnection
    ) async throws -> BackupCopyRecord {
        let result = try await connection.query(
            """
            WITH run AS (
                INSERT INTO orchestrator.backup_copy_verifications (copy_id, job_id, started_at, finished_at, status, files_checked, bytes_checked)
                VALUES ($1, $4, $5, now(), 'passed', $6, $2)
            )
            UPDATE orchestrator.backup_copies
            SET state = 'present', copied_at = now(), bytes = $2, bytes_sent = $3, verified_at = now(), verify_status = 'passed', verify_error = NULL,
                last_error = NULL
            WHERE id = $1
            RETURNING \(BackupCopyRecord.columns)
            """,
            [copyID, bytes, bytesSent, jobID, verifiedFrom, files]
        )
        return try BackupCopyRecord(row: result.single())
    }

    package static func recordVerification(
        copyID: Int64, jobID: Int64?, startedAt: Date, files: Int, bytes: Int64, error: String?, on connection: PostgresConnection
    ) async throws {
        try await connection.query(
            """
            WITH run AS (
                INSERT INTO orchestrator.backup_copy_verifications (copy_id, job_id, started_at, finished_at, status, files_checked, bytes_checked, error)
                VALUES ($1, $2, $3, now(), $4, $5, $6, $7)
            )
            UPDATE orchestrator.backup_copies SET verified_at = now(), verify_status = $4, verify_error = $7 WHERE id = $1
            """,
            [copyID, jobID, startedAt, error == nil ? "passed" : "failed", files, bytes, error]
        )
    }

    /// The SHA-256 of the encrypted copy's index, just before the index is sent and the copy
    /// committed: a run killed after the commit finds the copy provable by it.
    package static func recordIndex(copyID: Int64, sha256: String, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE orchestrator.backup_copies SET encryption_sha256 = $2 WHERE id = $1", [copyID, sha256])
    }

    /// Why an attempt stopped short, for `backups list` and the dashboard; the copy stays `copying`.
    package static func recordFailure(copyID: Int64, error: String, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE orchestrator.backup_copies SET last_error = $2 WHERE id = $1 AND state = 'copying'", [copyID, error])
    }

    package static func markDeleted(copyID: Int64, reason: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE orchestrator.backup_copies SET state = 'deleted', deleted_at = now(), delete_reason = $2 WHERE id = $1",
            [copyID, reason]
        )
    }

    package static func find(backupID: Int64, repository: String, on connection: PostgresConnection) async throws -> BackupCopyRecord? {
        let result = try await connection.query(
            "SELECT \(BackupCopyRecord.columns) FROM orchestrator.backup_copies WHERE backup_id = $1 AND repository = $2",
            [backupID, repository]
        )
        return try result.first.map(BackupCopyRecord.init(row:))
    }

    /// The newest backup (of `profile`, of `method`) with a complete copy in `repository`: what
    /// `latest` means for a restore or a drill from that repository, even after this host lost it.
    package static func newestCopied(
        repository: String, profile: String?, method: BackupMethod?, on connection: PostgresConnection
    ) async throws -> BackupRecord? {
        let result = try await connection.query(
            """
            SELECT \(BackupRecord.columns) FROM orchestrator.backups
            WHERE ($2::text IS NULL OR profile = $2) AND ($3::text IS NULL OR method = $3)
              AND id IN (SELECT backup_id FROM orchestrator.backup_copies WHERE repository = $1 AND state = 'present')
            ORDER BY finished_at DESC LIMIT 1
            """,
            [repository, profile, method?.rawValue]
        )
        return try result.first.map(BackupRecord.init(row:))
    }

    /// Every copy of these backups that is not deleted, for listings (`backups list`).
    package static func live(backupIDs: [Int64], on connection: PostgresConnection) async throws -> [BackupCopyRecord] {
        guard !backupIDs.isEmpty else { return [] }
        let result = try await connection.query(
            "SELECT \(BackupCopyRecord.columns) FROM orchestrator.backup_copies WHERE backup_id = ANY($1::bigint[]) AND state <> 'deleted' ORDER BY backup_id, repository",
            [backupIDs.map(String.init)]
        )
        return try result.rows.map(BackupCopyRecord.init(row:))
    }

    /// The present copies of one profile's backups in one repository, newest first, with the
    /// backups' own times (retention decides by when the backup was taken, not copied).
    package static func present(profile: String, repository: String, on connection: PostgresConnection) async throws -> [(copy: BackupCopyRecord, backup: BackupRecord)] {
        let copies = try await connection.query(
            """
            SELECT \(BackupCopyRecord.columns) FROM orchestrator.backup_copies
            WHERE repository = $1 AND state = 'present' AND backup_id IN (SELECT id FROM orchestrator.backups WHERE profile = $2)
            """,
            [repository, profile]
        ).rows.map(BackupCopyRecord.init(row:))
        let backups = try await connection.query(
            "SELECT \(BackupRecord.columns) FROM orchestrator.backups WHERE id = ANY($1::bigint[])", [copies.map { String($0.backupID) }]
        ).rows.map(BackupRecord.init(row:))
        let byID = Dictionary(uniqueKeysWithValues: backups.map { ($0.id, $0) })
        return copies.compactMap { copy in byID[copy.backupID].map { (copy, $0) } }.sorted { $0.backup.finishedAt > $1.backup.finishedAt }
    }
}
