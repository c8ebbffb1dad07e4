import Backups
import Queue
import Runtime

/// A backup named by a job's target: its id, or `latest` (of a profile with `profile=P`).
enum BackupReference {
    /// Restores and drills both take it.
    static let profile = JobArgument.text("profile", maxBytes: 63, "with 'latest': the newest backup of this profile")

    static func validate(_ reference: String?) throws(JobValidationError) {
        guard let reference, reference != "latest" else { return }
        guard let id = Int64(reference), id > 0 else {
            throw JobValidationError("\(reference.debugDescription) is not a backup id or 'latest'")
        }
    }

    static func resolve(_ reference: String?, profile: String?, context: JobContext) async throws -> BackupRecord {
        try await context.withOrchestratorDatabase { connection in
            guard let record = try await BackupCatalog.find(reference ?? "latest", profile: profile, on: connection) else {
                throw PermanentJobError("no backup \(reference ?? "latest")\(profile.map { " of profile \($0)" } ?? "") in the catalog")
            }
            guard record.deletedAt == nil else { throw PermanentJobError("backup \(record.id) was deleted") }
            return record
        }
    }
}
