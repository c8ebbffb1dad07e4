import Maintenance
import Queue
import Runtime
import Settings
import Support

/// `retention [POLICY]`: deletes rows older than a policy's age in short keyset batches
/// (see `BatchedDeleter`), then ANALYZEs the table. `dry_run=true` counts what would go.
package struct RetentionJob: JobKind {
    package init() {}
    package let name = "retention"
    package let summary = "delete rows older than a retention policy's keep_days in short batches (all policies without a target)"
    package let target = TargetRule.optional("a retention policy name (default: all)")
    package let defaultMaxAttempts = 3
    package let defaultTimeoutSeconds = 6 * 3600
    package let placement = Placement.shared

    package struct Arguments: JobArguments, Equatable {
        static let dryRun = JobArgument.boolean("dry_run", default: false, "only count the rows that would be deleted")
        package static let specs = [dryRun.spec]

        package var dryRun: Bool
    }

    package func validate(target: String?, arguments: Arguments, configuration: Configuration) throws(JobValidationError) -> String? {
        if let target, configuration.retention[target] == nil {
            let known = configuration.retention.keys.sorted()
            throw JobValidationError("unknown retention policy \(target.debugDescription); configured: \(known.isEmpty ? "none (add them under retention:)" : known.joined(separator: ", "))")
        }
        return nil
    }

    /// Each policy runs and is recorded on its own: one that fails (a dropped column, a missing
    /// grant) does not stop the others, and the job fails at the end naming every failed policy.
    package func run(_ job: ClaimedJob, arguments: Arguments, context: JobContext) async throws -> [String: JSONValue] {
        let dryRun = arguments.dryRun
        var results: [JSONValue] = []
        var failed: [(name: String, error: any Error)] = []
        for (name, policy) in context.configuration.retention.sorted(by: { $0.key < $1.key }) where job.target == nil || job.target == name {
            try Task.checkCancellation()
            do {
                results.append(.object(try await Self.run(name, policy, dryRun: dryRun, context: context)))
            } catch where !Task.isCancelled {
                // Batches committed before the failure stay deleted and are counted.
                let partial = (error as? BatchedDeleter.Interrupted)?.report
                let cause = (error as? BatchedDeleter.Interrupted)?.underlying ?? error
                context.logger.error("retention policy failed", metadata: ["retention.policy": "\(name)", "error": "\(cause)"])
                failed.append((name, cause))
                results.append(.object([
                    "policy": .string(name), "database": .string(policy.database), "table": .string(policy.table), "status": .string("failed"),
                    "error": .string(JobExecutor.describe(cause)), "rows_deleted": .int(partial?.rows ?? 0),
                    "batches": .int(Int64(partial?.batches ?? 0)),
                ]))
            }
        }
        let result: [String: JSONValue] = ["policies": .array(results), "dry_run": .bool(dryRun)]
        guard failed.isEmpty else {
            let names = failed.map(\.name)
            let message = failed.count == 1 && results.count == 1
                ? "\(failed[0].error)"
                : "retention failed for \(failed.count) of \(results.count) policies (\(names.joined(separator: ", "))): " +
                  failed.map { "\($0.name): \($0.error)" }.joined(separator: "; ")
            throw JobFailure(message, result: result, permanent: failed.allSatisfy { FailurePolicy.isPermanent($0.error) })
        }
        return result
    }

    private static func run(_ name: String, _ policy: RetentionDeletePolicy, dryRun: Bool, context: JobContext) async throws -> [String: JSONValue] {
        let report = try await context.withDatabase(policy.database) { connection in
            try await BatchedDeleter(policy: policy, logger: context.logger).run(on: connection, dryRun: dryRun)
        }
        context.logger.info("retention", metadata: [
            "policy": "\(name)", "rows": "\(report.rows)", "batches": "\(report.batches)",
            "longest_batch_ms": "\(Int(report.longestBatchMs))", "dry_run": "\(dryRun)",
        ])
        var entry: [String: JSONValue] = [
            "policy": .string(name), "database": .string(policy.database), "table": .string(policy.table), "status": .string("succeeded"),
            "rows_deleted": .int(report.rows), "batches": .int(Int64(report.batches)), "longest_batch_ms": .double(report.longestBatchMs),
            "wal_bytes": .int(report.walBytes), "cutoff": .string(report.cutoff.postgresText),
        ]
        if !dryRun {
            entry["walk"] = .string(report.walk)
            entry["delete_ms"] = .double(report.deleteMs)
            entry["analyze_ms"] = .double(report.analyzeMs)
            if let skipped = report.analyzeSkipped { entry["analyze_skipped"] = .string(skipped) }
        }
        if let would = report.wouldDelete { entry["would_delete"] = .int(would) }
        return entry
    }
}

extension RetentionJob.Arguments {
    package init(_ values: ArgumentValues) throws(JobValidationError) {
        dryRun = try values[Self.dryRun]
    }
}
