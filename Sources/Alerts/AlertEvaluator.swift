import Foundation
import Health
import Logging
import PostgresClient
import Queue
import Settings
import Support

/// Evaluates alerts and notifies: thresholds after a health run, built-in alerts on their own
/// (the `check-alerts` kind) and after every health run. Episodes live in `orchestrator.alerts`,
/// so any number of workers may evaluate at once; each notice is sent by one of them.
package struct AlertEvaluator: Sendable {
    let configuration: Configuration
    let notifier: AlertNotifier
    let logger: Logger

    package init(configuration: Configuration, logger: Logger, senderHost: String = HostInfo.hostName,
                makeChannel: AlertNotifier.ChannelFactory? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.notifier = AlertNotifier(settings: configuration.alerts, senderHost: senderHost, logger: logger, makeChannel: makeChannel)
    }

    /// What one evaluation did, for job results and logs.
    package struct Report: Sendable, Equatable, Encodable {
        package var firing = 0
        package var notices: [String] = []
        package var delivered = 0
        package var undelivered: [String] = []

        mutating func add(_ notices: [AlertNotice], _ outcomes: [AlertNotifier.Outcome]) {
            self.notices += notices.map { "\($0.event.rawValue) \(AlertCondition.name(rule: $0.rule, subject: $0.subject, host: $0.host))" }
            delivered += outcomes.filter(\.delivered).count
            undelivered += outcomes.filter { !$0.delivered }.map { "\($0.channel): \($0.error ?? "not delivered")" }
        }

        package var json: JSONValue {
            .object([
                "firing": .int(Int64(firing)), "notices": .array(notices.map(JSONValue.string)),
                "delivered": .int(Int64(delivered)), "undelivered": .array(undelivered.map(JSONValue.string)),
            ])
        }
    }

    /// Thresholds on a stored run, then the built-in alerts.
    package func afterHealthRun(_ run: HealthRun, now: Date = Date(), on connection: PostgresConnection) async throws -> Report {
        let thresholds = try await ThresholdEvaluator(rules: configuration.alerts.thresholds).evaluate(run, on: connection)
        var report = try await apply(thresholds, now: now, on: connection)
        let builtin = try await checkBuiltin(now: now, on: connection)
        report.firing += builtin.firing
        report.notices += builtin.notices
        report.delivered += builtin.delivered
        report.undelivered += builtin.undelivered
        return report
    }

    package func checkBuiltin(now: Date = Date(), on connection: PostgresConnection) async throws -> Report {
        let evaluation = try await BuiltinAlertEvaluator(configuration: configuration).evaluate(now: now, on: connection)
        return try await apply(evaluation, now: now, on: connection)
    }

    package func apply(_ evaluation: AlertEvaluation, now: Date, on connection: PostgresConnection) async throws -> Report {
        let notices = try await AlertEpisodes.apply(evaluation, now: now, repeatMinutes: configuration.alerts.repeatMinutes, on: connection)
        let outcomes = try await notifier.send(notices, on: connection)
        var report = Report()
        report.firing = evaluation.conditions.count
        report.add(notices, outcomes)
        for notice in notices {
            logger.info("alert notice", metadata: [
                "alert.event": "\(notice.event.rawValue)", "alert.id": "\(notice.alertID)", "alert.rule": "\(notice.rule)", "alert.subject": "\(notice.subject)",
                "alert.host": "\(notice.host)", "alert.severity": "\(notice.severity.rawValue)",
            ])
        }
        return report
    }

    /// Like `afterHealthRun`, for callers that must not fail because alerting did: the error
    /// is logged and returned in the report's place.
    package func afterHealthRunLoggingErrors(_ run: HealthRun, on connection: PostgresConnection) async -> JSONValue {
        do {
            return try await afterHealthRun(run, on: connection).json
        } catch {
            logger.warning("alert evaluation failed; samples are stored", metadata: ["error": "\(error)"])
            return .object(["error": .string("\(error)")])
        }
    }
}
