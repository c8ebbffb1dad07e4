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
    package let defaultMaxAttempts = 1
    package let defaultTimeoutSeconds = 12 * 3600
    package let placement = Placement.host

    /// A database, a directory for the files, or both; `source` picks the dump for the database.
    package struct Arguments: JobArguments, Equatable {
        static let database = JobArgument.text("database", maxBytes: 50, "database to create (refused if it exists, unless replace=true)")
        static let source = JobArgument.text("source", maxBytes: 63, "which database of the backup, when it holds several (with database=NAME)")
        static let replace = JobArgument.boolean(
            "replace", default: false, "swap an existing database after the restore succeeded (the old one is kept, renamed)"
        )
        static let filesTo = JobArgument.text("files_to", maxBytes: 1024, "absolute directory to extract the file sets into")
        static let keepOwners = JobArgument.boolean("keep_owners", default: false, "restore owners and grants (needs a superuser)")
        package static let specs = [
            database.spec, source.spec, replace.spec, filesTo.spec, keepOwners.spec, BackupReference.profile.spec, BackupReference.repository.spec,
        ]

        package var database: String?
        package var source: String?
        package var replace: Bool
        package var filesTo: String?
        package var keepOwners: Bool
        package var profile: String?
        package var repository: String?
    }

    package func validate(target: String?, arguments: Arguments, configuration: Configuration) throws(JobValidationError) -> String? {
        try BackupReference.validate(target)
        try BackupReference.validate(repository: arguments.repository, configuration: configuration)
        return arguments.database.map { "db:\($0)" }
    }

    package func run(_ job: ClaimedJob, arguments: Arguments, context: JobContext) async throws -> [String: JSONValue] {
        let (record, fetched) = try await BackupReference.resolve(job.target, profile: arguments.profile, repository: arguments.repository, context: context)
        defer { if let fetched { RemoteBackupFetcher.discard(fetched) } }
        let options = BackupRestorer.Options(
            database: arguments.database, source: arguments.source, replace: arguments.replace,
            filesTo: arguments.filesTo, keepOwners: arguments.keepOwners
        )
        let outcome = try await BackupRestorer(environment: context.backups).restore(record, options: options, jobID: job.id)
        var result: [String: JSONValue] = [
            "backup_id": .int(record.id), "seconds": .double(outcome.seconds), "files_extracted": .int(Int64(outcome.filesExtracted)),
        ]
        if let restored = outcome.database { result["database"] = .string(restored) }
        if let kept = outcome.replacedDatabaseKeptAs { result["previous_database_kept_as"] = .string(kept) }
        if let repository = arguments.repository { result["repository"] = .string(repository) }
        return result
    }
}

extension RestoreJob.Arguments {
    package init(_ values: ArgumentValues) throws(JobValidationError) {
        database = try values[Self.database]
        source = try values[Self.source]
        replace = try values[Self.replace]
        filesTo = try values[Self.filesTo]
        keepOwners = try values[Self.keepOwners]
        profile = try values[BackupReference.profile]
        repository = try values[BackupReference.repository]
        guard database != nil || filesTo != nil else {
            throw JobValidationError("restore needs database=NAME, files_to=DIR, or both")
        }
        if let filesTo, !filesTo.hasPrefix("/") || filesTo.split(separator: "/").contains("..") {
            throw JobValidationError("files_to must be an absolute path without '..'")
        }
        // A files-only restore never picks, needs or touches a database.
        if source != nil && database == nil {
            throw JobValidationError("restore takes source=NAME only with database=NAME")
        }
    }
}

extension RestoreJob {
    /// The job `orchestrator backups restore` enqueues: its options as this kind's arguments,
    /// named by their declarations, so the command and `--arg` cannot drift apart.
    package static func request(
        backup: String, database: String?, source: String?, filesTo: String?, replace: Bool, keepOwners: Bool, from repository: String? = nil,
        enqueuedBy: String
    ) -> JobRequest {
        var text: [String: String] = [:]
        text[BackupReference.repository.spec.name] = repository
        text[Arguments.database.spec.name] = database
        text[Arguments.source.spec.name] = source
        text[Arguments.filesTo.spec.name] = filesTo
        if replace { text[Arguments.replace.spec.name] = "true" }
        if keepOwners { text[Arguments.keepOwners.spec.name] = "true" }
        return JobRequest(kind: RestoreJob().name, target: backup, arguments: text, enqueuedBy: enqueuedBy)
    }
}

extension RestoreJob {
    package func roleChecks(target: String?, arguments: Arguments, configuration: Configuration) -> [RoleCheck] {
        BackupReference.createDatabaseChecks(profile: arguments.profile, configuration: configuration)
    }
}
