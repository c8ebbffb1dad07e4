import Foundation
import PostgresClient
import Settings

/// A backup as recorded in `orchestrator.backups`.
package struct BackupRecord: Sendable, Codable, Equatable {
    package let id: Int64
    package let profile: String
    package let label: String
    package private(set) var location: String
    package let host: String
    package let jobID: Int64?
    package let startedAt: Date
    package let finishedAt: Date
    package let bytes: Int64
    package let fileCount: Int
    package let databases: [String]
    package let manifestSHA256: String
    package let verifiedAt: Date?
    package let verifyStatus: String?
    package let verifyError: String?
    package let pinned: Bool
    package let deletedAt: Date?
    package let method: BackupMethod
    /// Physical backups: where in the WAL the copy starts and becomes consistent.
    package let timeline: Int32?
    package let startLSN: String?
    package let stopLSN: String?
    package let startWAL: String?
    package let systemIdentifier: Int64?

    /// The same backup read from another directory (a copy fetched back from a repository).
    package func relocated(to directory: String) -> BackupRecord {
        var moved = self
        moved.location = directory
        return moved
    }

    static let columns = """
        id, profile, label, location, host, job_id, started_at, finished_at, bytes, file_count, databases,
        manifest_sha256, verified_at, verify_status, verify_error, pinned, deleted_at,
        method, timeline, start_lsn::text AS start_lsn, stop_lsn::text AS stop_lsn, start_wal, system_identifier
        """

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        profile = try row.decode("profile")
        label = try row.decode("label")
        location = try row.decode("location")
        host = try row.decode("host")
        jobID = try row.decodeIfPresent("job_id")
        startedAt = try row.decode("started_at")
        finishedAt = try row.decode("finished_at")
        bytes = try row.decode("bytes")
        fileCount = try row.decode("file_count")
        databases = try row.decode("databases")
        manifestSHA256 = try row.decode("manifest_sha256")
        verifiedAt = try row.decodeIfPresent("verified_at")
        verifyStatus = try row.decodeIfPresent("verify_status")
        verifyError = try row.decodeIfPresent("verify_error")
        pinned = try row.decode("pinned")
        deletedAt = try row.decodeIfPresent("deleted_at")
        let method: String = try row.decode("method")
        guard let known = BackupMethod(rawValue: method) else { throw BackupError("backup \(id) has an unknown method \(method.debugDescription)") }
        self.method = known
        timeline = try row.decodeIfPresent("timeline")
        startLSN = try row.decodeIfPresent("start_lsn")
        stopLSN = try row.decodeIfPresent("stop_lsn")
        startWAL = try row.decodeIfPresent("start_wal")
        systemIdentifier = try row.decodeIfPresent("system_identifier")
    }
}

/// The SQL of the backup catalog.
package enum BackupCatalog {
    /// Catalogues a backup and the verification it passed before it was committed, so
    /// `backup_verifications` (and the reports counting it) holds every verification made.
    static func insert(
        _ manifest: BackupManifest, manifestSHA256: String, location: String, jobID: Int64?,
        verifiedFrom verifyStartedAt: Date, verification: BackupVerifier.Report, on connection: PostgresConnection
    ) async throws -> BackupRecord {
        let manifestText = String(decoding: try manifest.encoded(), as: UTF8.self)
        let result = try await connection.query(
            """
            WITH backup AS (
                INSERT INTO orchestrator.backups
                    (profile, label, location, host, job_id, started_at, finished_at, bytes, file_count, databases,
                     manifest, manifest_sha256, verified_at, verify_status,
                     method, timeline, start_lsn, stop_lsn, start_wal, system_identifier)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text[], $11::jsonb, $12, now(), 'passed',
                        $16, $17, $18::pg_lsn, $19::pg_lsn, $20, $21)
                RETURNING *
            ), checked AS (
                INSERT INTO orchestrator.backup_verifications (backup_id, job_id, started_at, finished_at, status, files_checked, bytes_checked)
                SELECT id, job_id, $13, verified_at, 'passed', $14, $15 FROM backup
            )
            SELECT \(BackupRecord.columns) FROM backup
            """,
            [
                manifest.profile, manifest.label, location, manifest.host, jobID, manifest.startedAt, manifest.finishedAt,
                manifest.totalBytes, manifest.files.count, manifest.databases.map(\.name), manifestText, manifestSHA256,
                verifyStartedAt, verification.files, verification.bytes,
                manifest.physical == nil ? BackupMethod.logical.rawValue : BackupMethod.physical.rawValue,
                manifest.physical.map { Int32($0.timeline) }, manifest.physical?.startPosition.description,
                manifest.physical?.stopPosition.description, manifest.physical?.startSegment, manifest.physical?.systemIdentifier,
            ]
        )
        return try BackupRecord(row: result.single())  // INSERT ... RETURNING of one row
    }

    package static func list(
        profile: String?, method: BackupMethod? = nil, includeDeleted: Bool = false, limit: Int = 100, on connection: PostgresConnection
    ) async throws -> [BackupRecord] {
        let result = try await connection.query(
            """
            SELECT \(BackupRecord.columns) FROM orchestrator.backups
            WHERE ($1::text IS NULL OR profile = $1) AND ($2 OR deleted_at IS NULL) AND ($4::text IS NULL OR method = $4)
            ORDER BY finished_at DESC LIMIT $3
            """,
            [profile, includeDeleted, limit, method?.rawValue]
        )
        return try result.rows.map(BackupRecord.init(row:))
    }

    /// `ID` or `latest` (newest live backup, optionally of one profile and one method).
    package static func find(
        _ reference: String, profile: String? = nil, method: BackupMethod? = nil, on connection: PostgresConnection
    ) async throws -> BackupRecord? {
        if reference == "latest" {
            return try await list(profile: profile, method: method, limit: 1, on: connection).first
        }
        guard let id = Int64(reference) else {
            throw BackupError("\(reference.debugDescription) is not a backup id or 'latest'")
        }
        let result = try await connection.query("SELECT \(BackupRecord.columns) FROM orchestrator.backups WHERE id = $1", [id])
        return try result.first.map(BackupRecord.init(row:))
    }

    /// The stored manifest as PostgreSQL returns the `jsonb` (what `backups show --json` prints);
    /// nil when no backup has this id.
    package static func manifestText(id: Int64, on connection: PostgresConnection) async throws -> String? {
        let result = try await connection.query("SELECT manifest::text AS manifest FROM orchestrator.backups WHERE id = $1", [id])
        return try result.first?.decode("manifest")
    }

    package static func recordVerification(
        backupID: Int64, jobID: Int64?, startedAt: Date, report: BackupVerifier.Report?, error: String?, on connection: PostgresConnection
    ) async throws {
        try await connection.query(
            """
            WITH run AS (
                INSERT INTO orchestrator.backup_verifications (backup_id, job_id, started_at, finished_at, status, files_checked, bytes_checked, error)
                VALUES ($1, $2, $3, now(), $4, $5, $6, $7)
            )
            UPDATE orchestrator.backups SET verified_at = now(), verify_status = $4, verify_error = $7 WHERE id = $1
            """,
            [backupID, jobID, startedAt, error == nil ? "passed" : "failed", report?.files ?? 0, report?.bytes ?? 0, error]
        )
    }
}
