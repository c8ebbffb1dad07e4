import Foundation
import Settings
import Support

/// A condition that holds now and should have a firing episode: produced by the threshold and
/// built-in evaluators, applied by `AlertEpisodes`.
package struct AlertCondition: Sendable, Equatable {
    package enum Source: String, Sendable, Codable {
        case threshold, builtin
    }

    package struct Key: Hashable, Sendable {
        package let rule: String
        package let subject: String
        package let host: String
    }

    /// `disk.used_percent` for thresholds, `job_failed`, `schedule_overdue`, ... for built-ins.
    package var rule: String
    package var source: Source
    package var subject: String
    /// The host the alert is about; empty for the orchestrator as a whole.
    package var host: String
    package var severity: AlertSeverity
    package var value: Double?
    package var threshold: Double?
    /// One line for people: the message headline.
    package var summary: String
    package var details: [String: JSONValue]
    /// When the condition started to hold.
    package var firstSeenAt: Date

    package var key: Key { Key(rule: rule, subject: subject, host: host) }

    /// The stable alert name in messages: `disk.used_percent:/`, `worker_heartbeat@nuc`.
    static func name(rule: String, subject: String, host: String) -> String {
        var name = rule
        if !subject.isEmpty { name += ":\(subject)" }
        if !host.isEmpty { name += "@\(host)" }
        return name
    }
}

/// What an evaluator decided for one scope: the conditions that hold, and the keys it could not
/// judge (no number this time), whose episodes stay as they are. Every other firing episode in
/// the scope is resolved.
package struct AlertEvaluation: Sendable {
    package enum Scope: Sendable, Equatable {
        /// Threshold episodes of one host.
        case thresholds(host: String)
        /// Every built-in episode.
        case builtin
    }

    package var scope: Scope
    package var conditions: [AlertCondition]
    package var undecided: Set<AlertCondition.Key>
    /// Why a key is clear now (`disk.used_percent of / on nuc is 70 %`), for resolved messages.
    package var cleared: [AlertCondition.Key: String]

    package init(scope: Scope, conditions: [AlertCondition] = [], undecided: Set<AlertCondition.Key> = [],
                cleared: [AlertCondition.Key: String] = [:]) {
        self.scope = scope
        self.conditions = conditions
        self.undecided = undecided
        self.cleared = cleared
    }
}
