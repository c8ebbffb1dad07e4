import History
import Queue
import Runtime
import Settings
import Support

/// `prune-history`: deletes the orchestrator's own old records as `history:` says (jobs and
/// their runs, schedule occurrences, resolved alerts and deliveries, records of deleted
/// backups), rolling job outcomes up per day and kind first. Scheduled daily by default
/// (`history.schedule`); the result lists the rows deleted per table.
package struct PruneHistoryJob: JobKind {
    package static let kindName = HistorySettings.jobKind

    package init() {}
    package let name = Self.kindName
    package let summary = "delete old jobs, runs, schedule occurrences, resolved alerts and backup records (history:), keeping daily job counts"
    package let target = TargetRule.none
    /// The next day's run deletes what a failed one left.
    package let defaultMaxAttempts = 1
    package let defaultTimeoutSeconds = 3600
    package let placement = Placement.shared

    package func validate(target: String?, arguments: NoArguments, configuration: Configuration) throws(JobValidationError) -> String? {
        // One pruning at a time; a second one would only race the first through the same rows.
        "orchestrator:history"
    }

    package func run(_ job: ClaimedJob, arguments: NoArguments, context: JobContext) async throws -> [String: JSONValue] {
        let retention = HistoryRetention(settings: context.configuration.history, logger: context.logger)
        let report = try await context.withOrchestratorDatabase { connection in
            try await retention.apply(on: connection)
        }
        context.logger.info("history pruned", metadata: [
            "history.jobs": "\(report.deleted["jobs"] ?? 0)", "history.job_runs": "\(report.deleted["job_runs"] ?? 0)",
        ])
        return [
            "deleted": .object(report.deleted.mapValues { .int($0) }),
            "batches": .int(Int64(report.batches)),
            "duration_ms": .double(report.milliseconds),
        ]
    }
}
