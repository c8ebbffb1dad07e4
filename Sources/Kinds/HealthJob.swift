import Alerts
import Health
import Queue
import Runtime
import Settings
import Support

/// `health`: samples this host, the configured databases, services and checks (`health:`),
/// stores the run in one transaction, evaluates alerts (thresholds and built-in), then rolls up
/// and prunes old samples. Runs on the host's
/// queue because it reads this host's /proc. Failed checks are data, not a failed job.
package struct HealthJob: JobKind {
    package init() {}
    package let name = "health"
    package let summary = "sample system, PostgreSQL, services and SQL checks (health:) and store them; roll up and prune old samples"
    package let target = TargetRule.none
    /// A missed sample is replaced by the next scheduled one; retrying an old one has no value.
    package let defaultMaxAttempts = 1
    package let defaultTimeoutSeconds = 300
    package let placement = Placement.host

    package func validate(target: String?, arguments: NoArguments, configuration: Configuration) throws(JobValidationError) -> String? {
        nil
    }

    package func run(_ job: ClaimedJob, arguments: NoArguments, context: JobContext) async throws -> [String: JSONValue] {
        let settings = context.configuration.health
        let sampler = HealthSampler(configuration: context.configuration, connector: context.connector, logger: context.logger)
        return try await context.withOrchestratorDatabase { connection in
            let run = try await sampler.sample(orchestrator: connection)
            try Task.checkCancellation()
            let runID = try await HealthStore.store(run, jobID: job.id, on: connection)
            let retention = try await HealthRetention.apply(keepRawDays: settings.keepRawDays, keepDailyDays: settings.keepDailyDays, on: connection)
            context.logger.info("health stored", metadata: [
                "health.run_id": "\(runID)", "health.pruned_runs": "\(retention.prunedRuns)", "health.daily_rows": "\(retention.dailyRows)",
            ])
            // Alerting problems are logged and reported; the stored samples stand.
            let alerts = await AlertEvaluator(configuration: context.configuration, logger: context.logger)
                .afterHealthRunLoggingErrors(run, on: connection)
            let failed = run.failed.prefix(50).map { sample in
                JSONValue.string("\(sample.category.rawValue) \(sample.subject) \(sample.metric): \(sample.message ?? "failed")")
            }
            return [
                "run_id": .int(runID), "host": .string(run.host), "samples": .int(Int64(run.samples.count)),
                "failed": .array(failed), "duration_ms": .double(run.durationMs), "database_ms": .double(run.databaseMs),
                "daily_rows": .int(Int64(retention.dailyRows)), "pruned_runs": .int(Int64(retention.prunedRuns)),
                "pruned_daily_rows": .int(Int64(retention.prunedDailyRows)), "alerts": alerts,
            ]
        }
    }
}

extension HealthJob {
    /// Sampling sees other roles' sessions only with `pg_read_all_stats`, in each sampled database.
    package func roleChecks(target: String?, arguments: NoArguments, configuration: Configuration) -> [RoleCheck] {
        (configuration.health.databases ?? configuration.databases.keys.sorted()).map { database in
            RoleCheck(database: database) { try await StatisticsPrivilege.problem(on: $0) }
        }
    }
}
