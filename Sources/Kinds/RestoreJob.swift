import Backups
import Queue
import Runtime
import Settings
import Support

/// `restore ID|latest --arg database=NAME`: restores a backup into a new database (or swaps it in
/// with `replace=true` after success) and/or extracts its files under `files_to`.
package struct RestoreJob: JobKind {
    package init() {}
    package let name = "restore"
    package let summary = "restore a backup into a new database (database=NAME) and/or its files under files_to=DIR"
    package let target = TargetRule.required("a backup id or 'latest'")
    package let arguments = [
        ArgumentSpec("database", .text(maxBytes: 50), "database to create (refused if it exists, unless replace=true)"),
        ArgumentSpec("source", .text(maxBytes: 63), "which database of the backup, when it holds several"),
        ArgumentSpec("replace", .boolean, "swap an existing database after the restore succeeded (the old one is kept, renamed)"),
        ArgumentSpec("files_to", .text(maxBytes: 1024), "absolute directory to extract the file sets into"),
        ArgumentSpec("keep_owners", .boolean, "restore owners and grants (needs a superuser)"),
        ArgumentSpec("profile", .text(maxBytes: 63), "with 'latest': the newest backup of this profile"),
    ]
    package let defaultMaxAttempts = 1
    package let defaultTimeoutSeconds = 12 * 3600
    package let placement = Placement.host

    package func validate(target: String?, arguments: [String: JSONValue], configuration: Configuration) throws(JobValidationError) -> String? {
        try BackupReference.validate(target)
        let database = arguments["database"]?.stringValue
        let filesTo = arguments["files_to"]?.stringValue
        guard database != nil || filesTo != nil else {
            throw JobValidationError("restore needs database=NAME, files_to=DIR, or both")
        }
        if let filesTo, !filesTo.hasPrefix("/") || filesTo.split(separator: "/").contains("..") {
            throw JobValidationError("files_to must be an absolute path without '..'")
        }
        return database.map { "db:\($0)" }
    }

    package func run(_ job: ClaimedJob, context: JobContext) async throws -> [String: JSONValue] {
        let record = try await BackupReference.resolve(job.target, profile: job.arguments["profile"]?.stringValue, context: context)
        let database = job.arguments["database"]?.stringValue
        let options = BackupRestorer.Options(
            database: database,
            // A files-only restore never picks, needs or touches a database.
            source: database == nil ? nil : job.arguments["source"]?.stringValue,
            replace: job.arguments["replace"]?.boolValue ?? false,
            filesTo: job.arguments["files_to"]?.stringValue,
            keepOwners: job.arguments["keep_owners"]?.boolValue ?? false
        )
        let outcome = try await BackupRestorer(environment: context.backups).restore(record, options: options, jobID: job.id)
        var result: [String: JSONValue] = [
            "backup_id": .int(record.id), "seconds": .double(outcome.seconds), "files_extracted": .int(Int64(outcome.filesExtracted)),
        ]
        if let restored = outcome.database { result["database"] = .string(restored) }
        if let kept = outcome.replacedDatabaseKeptAs { result["previous_database_kept_as"] = .string(kept) }
        return result
    }
}

/// `restore-drill [ID|latest]`: proves a backup restorable and records the result.
package struct RestoreDrillJob: JobKind {
    package init() {}
    package let name = "restore-drill"
    package let summary = "restore a backup into a scratch database, compare row counts, run smoke queries, record RTO/RPO"
    package let target = TargetRule.optional("a backup id or 'latest' (default)")
    package let arguments = [ArgumentSpec("profile", .text(maxBytes: 63), "with 'latest': the newest backup of this profile")]
    package let defaultMaxAttempts = 1
    package let defaultTimeoutSeconds = 12 * 3600
    package let placement = Placement.host

    package func validate(target: String?, arguments: [String: JSONValue], configuration: Configuration) throws(JobValidationError) -> String? {
        try BackupReference.validate(target)
        return nil
    }

    package func run(_ job: ClaimedJob, context: JobContext) async throws -> [String: JSONValue] {
        let record = try await BackupReference.resolve(job.target, profile: job.arguments["profile"]?.stringValue, context: context)
        let outcome = try await RestoreDrill(environment: context.backups).run(record, jobID: job.id)
        guard outcome.passed else { throw PermanentJobError("restore drill of backup \(record.id) failed: \(outcome.error ?? "unknown")") }
        return [
            "backup_id": .int(record.id), "restore_seconds": .double(outcome.restoreSeconds),
            "backup_age_seconds": .double(outcome.backupAgeSeconds), "tables_checked": .int(Int64(outcome.tablesChecked)),
        ]
    }
}

enum BackupReference {
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
