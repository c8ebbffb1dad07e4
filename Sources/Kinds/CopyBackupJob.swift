import Backups
import Queue
import Runtime
import Settings
import Support

/// `copy-backup ID|latest --arg repository=NAME`: copies a verified backup to a remote
/// repository, reads it back, commits it, then applies that repository's retention to the
/// profile. Enqueued after every backup of a profile with `copy_to:`; one copy at a time per
/// repository, so the uplink carries one stream.
package struct CopyBackupJob: JobKind {
    package init() {}
    package let name = "copy-backup"
    package let summary = "copy a verified backup to a remote repository (repositories:), read it back, apply its retention there"
    package let target = TargetRule.required("a backup id or 'latest'")
    /// An unreachable repository is retried with backoff; the local backup is untouched meanwhile.
    package let defaultMaxAttempts = 6
    package let defaultTimeoutSeconds = 12 * 3600
    /// The backup's files are on this host.
    package let placement = Placement.host

    package struct Arguments: JobArguments, Equatable {
        static let repository = JobArgument.text("repository", maxBytes: 63, "the key of repositories: to copy to (required)")
        package static let specs = [repository.spec, BackupReference.profile.spec]

        package var repository: String?
        package var profile: String?
    }

    package func validate(target: String?, arguments: Arguments, configuration: Configuration) throws(JobValidationError) -> String? {
        try BackupReference.validate(target)
        guard let name = arguments.repository else {
            let known = configuration.repositories.keys.sorted()
            throw JobValidationError("copy-backup needs --arg repository=NAME (configured: \(known.isEmpty ? "none; add them under repositories:" : known.joined(separator: ", ")))")
        }
        do {
            _ = try RemoteRepository(named: name, in: configuration)
        } catch {
            throw JobValidationError(error.message)
        }
        return "copy:\(name)"
    }

    package func run(_ job: ClaimedJob, arguments: Arguments, context: JobContext) async throws -> [String: JSONValue] {
        let repository = try RemoteRepository(named: arguments.repository ?? "", in: context.configuration)
        let record = try await context.withOrchestratorDatabase { connection in
            guard let record = try await BackupCatalog.find(job.target ?? "latest", profile: arguments.profile, on: connection) else {
                throw PermanentJobError("no backup \(job.target ?? "latest")\(arguments.profile.map { " of profile \($0)" } ?? "") in the catalog")
            }
            return record
        }
        let report = try await BackupCopier(environment: context.backups, repository: repository, jobID: job.id).copy(backupID: record.id)
        let deleted = try await Self.prune(profile: record.profile, repository: repository, context: context)
        return [
            "backup_id": .int(record.id),
            "repository": .string(repository.name),
            "location": .string(report.copy.location),
            "already_present": .bool(report.alreadyPresent),
            "files_sent": .int(Int64(report.filesSent)),
            "files_resumed": .int(Int64(report.filesResumed)),
            "bytes_sent": .int(report.bytesSent),
            "bytes": .int(report.copy.bytes),
            "upload_seconds": .double(report.uploadSeconds),
            "read_back_seconds": .double(report.readBackSeconds),
            "verified": .bool(true),
            "deleted_by_retention": .array(deleted.map { .int($0.backupID) }),
        ]
    }

    static func prune(profile: String, repository: RemoteRepository, context: JobContext) async throws -> [RemoteCopyPruner.Deletion] {
        let session = try repository.open()
        defer { session.close() }
        return try await context.withOrchestratorDatabase { connection in
            try await RemoteCopyPruner(logger: context.logger).prune(profile: profile, repository: repository, session: session, on: connection)
        }
    }

    /// The copies a finished backup of `profile` asks for, one job per repository of `copy_to:`.
    static func requests(backupID: Int64, profile: String, configuration: Configuration, enqueuedBy: String) -> [JobRequest] {
        (configuration.backups.profiles[profile]?.copyTo ?? []).map { repository in
            JobRequest(
                kind: "copy-backup", target: String(backupID), arguments: ["repository": repository],
                uniqueKey: "copy-backup:\(backupID):\(repository)", enqueuedBy: enqueuedBy
            )
        }
    }
}

extension CopyBackupJob.Arguments {
    package init(_ values: ArgumentValues) throws(JobValidationError) {
        repository = try values[Self.repository]
        profile = try values[BackupReference.profile]
    }
}
