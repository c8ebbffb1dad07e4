import Backups
import Queue
import Runtime
import Settings
import Support

/// `prune-backups [PROFILE]`: applies retention to one profile, or to all (it also runs after
/// every successful backup). Each deletion is recorded in the catalog with its reason.
package struct PruneBackupsJob: JobKind {
    package init() {}
    package let name = "prune-backups"
    package let summary = "delete backups outside every retention rule of a profile (all profiles without a target)"
    package let target = TargetRule.optional("a backup profile name (default: all)")
    package let arguments = [ArgumentSpec("dry_run", .boolean, "only report what would be deleted")]
    package let defaultMaxAttempts = 3
    package let defaultTimeoutSeconds = 3600
    /// Deletes files in this host's repository.
    package let placement = Placement.host

    package func validate(target: String?, arguments: [String: JSONValue], configuration: Configuration) throws(JobValidationError) -> String? {
        if let target, configuration.backups.profiles[target] == nil {
            let known = configuration.backups.profiles.keys.sorted()
            throw JobValidationError("unknown backup profile \(target.debugDescription); configured profiles: \(known.isEmpty ? "none" : known.joined(separator: ", "))")
        }
        return nil
    }

    package func run(_ job: ClaimedJob, context: JobContext) async throws -> [String: JSONValue] {
        let profiles = context.configuration.backups.profiles.filter { job.target == nil || $0.key == job.target }
        let dryRun = job.arguments["dry_run"]?.boolValue ?? false
        var deleted: [JSONValue] = []
        for (name, profile) in profiles.sorted(by: { $0.key < $1.key }) {
            let deletions = try await context.withOrchestratorDatabase { connection in
                try await BackupPruner(logger: context.logger).prune(profile: name, policy: profile.retention, dryRun: dryRun, on: connection)
            }
            deleted += deletions.map { .object(["id": .int($0.id), "profile": .string(name), "label": .string($0.label)]) }
        }
        return ["deleted": .array(deleted), "dry_run": .bool(dryRun)]
    }
}
