import Backups
import Queue
import Runtime
import Settings
import Support

/// `base-backup PROFILE`: copies the whole cluster of a physical profile with `pg_basebackup`,
/// verifies every file against PostgreSQL's `backup_manifest` and the project's own checksums,
/// catalogues it, applies the profile's retention and then removes archived WAL no kept base
/// backup needs.
package struct BaseBackupJob: JobKind {
    package init() {}
    package let name = "base-backup"
    package let summary = "copy the whole cluster of a physical profile (pg_basebackup, verified); start of point-in-time recovery"
    package let target = TargetRule.required("a physical backup profile name (backups.profiles with method: physical)")
    package let defaultMaxAttempts = 2
    package let defaultTimeoutSeconds = 6 * 3600
    /// The repository lives on this host.
    package let placement = Placement.host

    package func validate(target: String?, arguments: NoArguments, configuration: Configuration) throws(JobValidationError) -> String? {
        let physical = configuration.backups.profiles.filter { $0.value.method == .physical }.keys.sorted()
        guard let target, let profile = configuration.backups.profiles[target] else {
            throw JobValidationError("unknown backup profile \((target ?? "").debugDescription); physical profiles: \(physical.isEmpty ? "none (add one with method: physical under backups.profiles)" : physical.joined(separator: ", "))")
        }
        guard profile.method == .physical else {
            throw JobValidationError("profile \(target.debugDescription) is logical; enqueue backup \(target), or use a physical profile: \(physical.isEmpty ? "none configured" : physical.joined(separator: ", "))")
        }
        // One copy of a cluster at a time.
        return "base-backup:\(profile.database ?? target)"
    }

    package func run(_ job: ClaimedJob, arguments: NoArguments, context: JobContext) async throws -> [String: JSONValue] {
        guard let profileName = job.target, context.configuration.backups.profiles[profileName] != nil else {
            throw PermanentJobError("base-backup needs a physical profile")
        }
        let (record, common) = try await BackupJob.backUp(profile: profileName, job: job, context: context)
        var result = common
        result["start_wal"] = record.startWAL.map(JSONValue.string) ?? .null
        result["stop_lsn"] = record.stopLSN.map(JSONValue.string) ?? .null
        // WAL only after the backups it serves.
        if let repository = context.configuration.walArchive?.repository {
            let wal = try await context.withOrchestratorDatabase { connection in
                try await WALRetention(logger: context.logger).prune(repository: repository, dryRun: false, on: connection)
            }
            result["wal_removed_files"] = .int(Int64(wal.removed.files))
            result["wal_removed_bytes"] = .int(wal.removed.bytes)
            result["wal_first_needed"] = wal.firstNeeded.map(JSONValue.string) ?? .null
        }
        return result
    }
}

extension BaseBackupJob {
    /// pg_basebackup needs a role with REPLICATION on the profile's server.
    package func roleChecks(target: String?, arguments: NoArguments, configuration: Configuration) -> [RoleCheck] {
        guard let database = target.flatMap({ configuration.backups.profiles[$0]?.database }) else { return [] }
        return [RoleCheck(database: database) { try await BackupPrivileges.replicationProblem(on: $0) }]
    }
}
