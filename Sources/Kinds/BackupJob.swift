import Backups
import Queue
import Runtime
import Settings
import Support

/// `backup PROFILE`: dumps the profile's databases and archives its paths, verifies every byte,
/// and records the backup in the catalog.
package struct BackupJob: JobKind {
    package init() {}
    package let name = "backup"
    package let summary = "back up a profile from the configuration's backups.profiles (dumps + files, verified)"
    package let target = TargetRule.required("a backup profile name (backups.profiles)")
    package let defaultMaxAttempts = 2
    package let defaultTimeoutSeconds = 6 * 3600
    /// The repository and the file sets live on this host.
    package let placement = Placement.host

    package func validate(target: String?, arguments: NoArguments, configuration: Configuration) throws(JobValidationError) -> String? {
        guard let target, let profile = configuration.backups.profiles[target] else {
            let known = configuration.backups.profiles.keys.sorted()
            throw JobValidationError("unknown backup profile \((target ?? "").debugDescription); configured profiles: \(known.isEmpty ? "none (add them under backups.profiles in the configuration)" : known.joined(separator: ", "))")
        }
        guard profile.method == .logical else {
            throw JobValidationError("profile \(target.debugDescription) is physical (method: physical); enqueue base-backup \(target) instead")
        }
        // One database: hold its key, so no restore or VACUUM FULL of it overlaps the dump.
        if profile.databases.count == 1, let database = configuration.databases[profile.databases[0]] {
            return "db:\(database.dbname)"
        }
        return "backup:\(target)"
    }

    package func run(_ job: ClaimedJob, arguments: NoArguments, context: JobContext) async throws -> [String: JSONValue] {
        guard let profile = job.target else { throw PermanentJobError("backup needs a profile") }
        return try await Self.backUp(profile: profile, job: job, context: context).result
    }

    /// Builds and verifies a backup of `profile` (logical or physical), then applies the
    /// profile's retention — only after a successful, verified backup, so it never removes the
    /// last good one. Shared by `backup` and `base-backup`.
    static func backUp(profile: String, job: ClaimedJob, context: JobContext) async throws -> (record: BackupRecord, result: [String: JSONValue]) {
        let record = try await BackupBuilder(profileName: profile, configuration: context.configuration, environment: context.backups, jobID: job.id).run()
        context.logger.info("backup complete", metadata: [
            "backup.id": "\(record.id)", "backup.method": "\(record.method.rawValue)", "backup.location": "\(record.location)",
        ])
        let policy = context.configuration.backups.profiles[profile]?.retention ?? RetentionPolicy()
        let deleted = try await context.withOrchestratorDatabase { connection in
            try await BackupPruner(logger: context.logger).prune(profile: profile, policy: policy, dryRun: false, on: connection)
        }
        // Copies off the host follow; a queue that refuses them must not fail the backup made.
        var copyJobs: [JSONValue] = []
        for request in CopyBackupJob.requests(backupID: record.id, profile: profile, configuration: context.configuration, enqueuedBy: "job \(job.id)") {
            do {
                copyJobs.append(.int(try await context.enqueue(request)))
            } catch {
                context.logger.error("could not enqueue the backup's copy; enqueue it by hand", metadata: [
                    "copy.repository": "\(request.arguments["repository"] ?? "")", "error": "\(error)",
                ])
            }
        }
        return (record, [
            "copy_jobs": .array(copyJobs),
            "deleted_by_retention": .array(deleted.map { .int($0.id) }),
            "backup_id": .int(record.id),
            "label": .string(record.label),
            "location": .string(record.location),
            "bytes": .int(record.bytes),
            "files": .int(Int64(record.fileCount)),
            "verified": .bool(true),
        ])
    }
}

extension BackupJob {
    /// pg_dump must read every table and sequence of each database of the profile.
    package func roleChecks(target: String?, arguments: NoArguments, configuration: Configuration) -> [RoleCheck] {
        let databases = target.flatMap { configuration.backups.profiles[$0]?.databases } ?? []
        return databases.map { database in RoleCheck(database: database) { try await BackupPrivileges.dumpProblem(on: $0) } }
    }
}
