/// `check-alerts`: evaluates the built-in alerts (failed jobs, overdue schedules, silent
/// workers, stale backups and drills) and notifies. Shared queue, so any worker on any host
/// checks the others; schedule it every few minutes. Channel failures are recorded in
/// `alert_deliveries`, never a failed job.
public struct CheckAlertsJob: JobKind {
    public init() {}
    public let name = "check-alerts"
    public let summary = "evaluate the built-in alerts (failed jobs, overdue schedules, worker heartbeats, backup and drill age) and notify"
    public let target = TargetRule.none
    public let arguments: [ArgumentSpec] = []
    /// The next scheduled check replaces a lost one.
    public let defaultMaxAttempts = 1
    /// Delivery retries to a failing channel take up to about a minute per channel.
    public let defaultTimeoutSeconds = 300
    public let placement = Placement.shared

    public func validate(target: String?, arguments: [String: JSONValue], configuration: Configuration) throws(JobValidationError) -> String? {
        nil
    }

    public func run(_ job: ClaimedJob, context: JobContext) async throws -> [String: JSONValue] {
        try await context.withOrchestratorDatabase { connection in
            let report = try await AlertEvaluator(configuration: context.configuration, logger: context.logger).checkBuiltin(on: connection)
            guard case .object(let result) = report.json else { return [:] }
            return result
        }
    }
}
