import Alerts
import Queue
import Runtime
import Settings
import Support

/// `check-alerts`: evaluates the built-in alerts (failed jobs, overdue schedules, silent
/// workers, stale backups and drills) and notifies. Shared queue, so any worker on any host
/// checks the others; schedule it every few minutes. Channel failures are recorded in
/// `alert_deliveries`, never a failed job. With `alerts.heartbeat_url`, each check that ran to
/// the end pings it (a dead man's switch); the ping's outcome is in the result.
package struct CheckAlertsJob: JobKind {
    package init() {}
    package let name = "check-alerts"
    package let summary = "evaluate the built-in alerts (failed jobs, overdue schedules, worker heartbeats, backup and drill age) and notify"
    package let target = TargetRule.none
    /// The next scheduled check replaces a lost one.
    package let defaultMaxAttempts = 1
    /// Delivery retries to a failing channel take up to about a minute per channel.
    package let defaultTimeoutSeconds = 300
    package let placement = Placement.shared

    package func validate(target: String?, arguments: NoArguments, configuration: Configuration) throws(JobValidationError) -> String? {
        nil
    }

    package func run(_ job: ClaimedJob, arguments: NoArguments, context: JobContext) async throws -> [String: JSONValue] {
        var result: [String: JSONValue] = try await context.withOrchestratorDatabase { connection in
            let report = try await AlertEvaluator(configuration: context.configuration, logger: context.logger).checkBuiltin(on: connection)
            guard case .object(let result) = report.json else { return [:] }
            return result
        }
        // Only a check that ran to the end says "alive" to the outside.
        if context.configuration.alerts.hasHeartbeat {
            let outcome: HeartbeatPing.Outcome
            do {
                guard let url = try HeartbeatURL.resolve(context.configuration.alerts) else { return result }
                outcome = await HeartbeatPing(url: url).send()
            } catch {
                outcome = HeartbeatPing.Outcome(sent: false, status: nil, error: error.description)
            }
            if let problem = outcome.error { context.logger.warning("heartbeat ping failed; the next check sends another", metadata: ["error": "\(problem)"]) }
            result["heartbeat"] = outcome.json
        }
        return result
    }
}
