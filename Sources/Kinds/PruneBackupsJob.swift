import Backups
import Queue
import Runtime
import Settings
import Support

/// `prune-backups [PROFILE] [--arg dry_run=true]`: applies retention to one profile, or to all
/// (it also runs after every successful backup). Each deletion is recorded in the catalog with
/// its reason.
///
/// The model for a new kind: what it is (name, target, attempts, placement), its `Arguments`,
/// the checks at enqueue, and `run`, which calls the domain and shapes the result. Whether an
/// error is worth retrying is `FailurePolicy`'s call, not the kind's.
package struct PruneBackupsJob: JobKind {
    package init() {}
    package let name = "prune-backups"
    package let summary = "delete backups outside every retention rule of a profile (all profiles without a target)"
    package let target = TargetRule.optional("a backup profile name (default: all)")
    package let defaultMaxAttempts = 3
    package let defaultTimeoutSeconds = 3600
    /// Deletes files in this host's repository.
    package let placement = Placement.host

    /// Each argument is declared once (name, type, default, meaning) and read once in `init`.
    package struct Arguments: JobArguments, Equatable {
        static let dryRun = JobArgument.boolean("dry_run", default: false, "only report what would be deleted")
        package static let specs = [dryRun.spec]

        package var dryRun: Bool
    }

    package func validate(target: String?, arguments: Arguments, configuration: Configuration) throws(JobValidationError) -> String? {
        if let target, configuration.backups.profiles[target] == nil {
            let known = configuration.backups.profiles.keys.sorted()
            throw JobValidationError("unknown backup profile \(target.debugDescription); configured profiles: \(known.isEmpty ? "none" : known.joined(separator: ", "))")
        }
        return nil
    }

    package func run(_ job: ClaimedJob, arguments: Arguments, context: JobContext) async throws -> [String: JSONValue] {
        let profiles = context.configuration.backups.profiles.filter { job.target == nil || $0.key == job.target }
        var deleted: [JSONValue] = []
        for (name, profile) in profiles.sorted(by: { $0.key < $1.key }) {
            let deletions = try await context.withOrchestratorDatabase { connection in
                try await BackupPruner(logger: context.logger).prune(profile: name, policy: profile.retention, dryRun: arguments.dryRun, on: connection)
            }
            deleted += deletions.map { .object(["id": .int($0.id), "profile": .string(name), "label": .string($0.label)]) }
        }
        var result: [String: JSONValue] = ["deleted": .array(deleted), "dry_run": .bool(arguments.dryRun)]
        // Archived WAL follows the physical backups it serves.
        if profiles.values.contains(where: { $0.method == .physical }), let repository = context.configuration.walArchive?.repository {
            let wal = try await context.withOrchestratorDatabase { connection in
                try await WALRetention(logger: context.logger).prune(repository: repository, dryRun: arguments.dryRun, on: connection)
            }
            result["wal_removed_files"] = .int(Int64(wal.removed.files))
            result["wal_first_needed"] = wal.firstNeeded.map(JSONValue.string) ?? .null
        }
        return result
    }
}

extension PruneBackupsJob.Arguments {
    // In an extension, so the memberwise initializer stays for tests.
    package init(_ values: ArgumentValues) throws(JobValidationError) {
        dryRun = try values[Self.dryRun]
    }
}
