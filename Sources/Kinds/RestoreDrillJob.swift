import Backups
import Queue
import Runtime
import Settings
import Support

/// `restore-drill [ID|latest]`: proves a backup restorable and records the result.
package struct RestoreDrillJob: JobKind {
    package init() {}
    package let name = "restore-drill"
    package let summary = "restore a backup into a scratch database, compare row counts, run smoke queries, record RTO/RPO"
    package let target = TargetRule.optional("a backup id or 'latest' (default)")
    package let defaultMaxAttempts = 1
    package let defaultTimeoutSeconds = 12 * 3600
    package let placement = Placement.host

    package struct Arguments: JobArguments, Equatable {
        package static let specs = [BackupReference.profile.spec, BackupReference.repository.spec]

        package var profile: String?
        package var repository: String?
    }

    package func validate(target: String?, arguments: Arguments, configuration: Configuration) throws(JobValidationError) -> String? {
        try BackupReference.validate(target)
        try BackupReference.validate(repository: arguments.repository, configuration: configuration)
        return nil
    }

    package func run(_ job: ClaimedJob, arguments: Arguments, context: JobContext) async throws -> [String: JSONValue] {
        let (record, fetched) = try await BackupReference.resolve(job.target, profile: arguments.profile, repository: arguments.repository, context: context)
        defer { if let fetched { RemoteBackupFetcher.discard(fetched) } }
        let remote = arguments.repository.flatMap { $0 == RepositorySettings.localName ? nil : $0 }
        let outcome = try await RestoreDrill(environment: context.backups).run(record, jobID: job.id, repository: remote)
        guard outcome.passed else { throw PermanentJobError("restore drill of backup \(record.id) failed: \(outcome.error ?? "unknown")") }
        return [
            "backup_id": .int(record.id), "restore_seconds": .double(outcome.restoreSeconds),
            "backup_age_seconds": .double(outcome.backupAgeSeconds), "tables_checked": .int(Int64(outcome.tablesChecked)),
            "repository": .string(arguments.repository ?? RepositorySettings.localName),
        ]
    }
}

extension RestoreDrillJob.Arguments {
    package init(_ values: ArgumentValues) throws(JobValidationError) {
        profile = try values[BackupReference.profile]
        repository = try values[BackupReference.repository]
    }
}

extension RestoreDrillJob {
    package func roleChecks(target: String?, arguments: Arguments, configuration: Configuration) -> [RoleCheck] {
        BackupReference.createDatabaseChecks(profile: arguments.profile, configuration: configuration)
    }
}
