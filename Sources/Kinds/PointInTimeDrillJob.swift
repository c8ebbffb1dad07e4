import Backups
import Queue
import Runtime
import Settings
import Support

/// `pitr-drill [PROFILE] [--arg mode=random|latest]`: restores the cluster from a physical base
/// backup and the WAL archive to a random moment (or the end of the archive) in a scratch
/// directory, checks the recovery markers, records RTO and RPO, and always removes the copy.
package struct PointInTimeDrillJob: JobKind {
    package init() {}
    package let name = "pitr-drill"
    package let summary = "restore the cluster to a random moment of the WAL archive in a scratch directory, check the recovery markers, record RTO/RPO"
    package let target = TargetRule.optional("a physical backup profile (default: any)")
    package let defaultMaxAttempts = 1
    package let defaultTimeoutSeconds = 12 * 3600
    /// The repositories and the scratch directory are on this host.
    package let placement = Placement.host

    package struct Arguments: JobArguments, Equatable {
        static let mode = JobArgument.choice(
            "mode", PointInTimeDrill.Mode.allCases.map(\.rawValue), default: PointInTimeDrill.Mode.random.rawValue,
            "random: a random moment inside the archive window; latest: the end of the archive (measures RPO)"
        )
        package static let specs = [mode.spec]

        package var mode: PointInTimeDrill.Mode
    }

    package func validate(target: String?, arguments: Arguments, configuration: Configuration) throws(JobValidationError) -> String? {
        let physical = configuration.backups.profiles.filter { $0.value.method == .physical }.keys.sorted()
        if let target, !physical.contains(target) {
            throw JobValidationError("\(target.debugDescription) is not a physical backup profile; physical profiles: \(physical.isEmpty ? "none" : physical.joined(separator: ", "))")
        }
        guard configuration.walArchive != nil else {
            throw JobValidationError("a point-in-time drill needs wal_archive.repository in the configuration")
        }
        // One scratch cluster at a time on a small host.
        return "pitr-drill"
    }

    package func run(_ job: ClaimedJob, arguments: Arguments, context: JobContext) async throws -> [String: JSONValue] {
        let outcome = try await PointInTimeDrill(environment: context.backups).run(profile: job.target, mode: arguments.mode, jobID: job.id)
        guard outcome.passed else {
            throw PermanentJobError("point-in-time drill failed: \(outcome.error ?? "unknown")")
        }
        var result: [String: JSONValue] = [
            "backup_id": outcome.backupID.map(JSONValue.int) ?? .null,
            "mode": .string(arguments.mode.rawValue),
            "rto_seconds": outcome.rtoSeconds.map(JSONValue.double) ?? .null,
            "rpo_seconds": outcome.rpoSeconds.map(JSONValue.double) ?? .null,
            "reached_lsn": outcome.reachedLSN.map(JSONValue.string) ?? .null,
            "markers_checked": outcome.markersExpected.map { .int(Int64($0)) } ?? .null,
            "pg_verifybackup_seconds": outcome.pgVerifybackupSeconds.map(JSONValue.double) ?? .null,
        ]
        if let target = outcome.target { result["target"] = .string(RecoveryTarget.time(target).description) }
        if let reached = outcome.reachedTime { result["reached_time"] = .string(RecoveryTarget.time(reached).description) }
        return result
    }
}

extension PointInTimeDrillJob.Arguments {
    package init(_ values: ArgumentValues) throws(JobValidationError) {
        let text = try values[Self.mode]
        guard let mode = PointInTimeDrill.Mode(rawValue: text) else { throw JobValidationError("mode must be random or latest") }
        self.mode = mode
    }
}
