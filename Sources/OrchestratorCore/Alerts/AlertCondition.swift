import Foundation

/// A condition that holds now and should have a firing episode: produced by the threshold and
/// built-in evaluators, applied by `AlertEpisodes`.
public struct AlertCondition: Sendable, Equatable {
    public enum Source: String, Sendable, Codable {
        case threshold, builtin
    }

    public struct Key: Hashable, Sendable {
        public let rule: String
        public let subject: String
        public let host: String
    }

    /// `disk.used_percent` for thresholds, `job_failed`, `schedule_overdue`, ... for built-ins.
    public var rule: String
    public var source: Source
    public var subject: String
    /// The host the alert is about; empty for the orchestrator as a whole.
    public var host: String
    public var severity: AlertSeverity
    public var value: Double?
    public var threshold: Double?
    /// One line for people: the message headline.
    public var summary: String
    public var details: [String: JSONValue]
    /// When the condition started to hold.
    public var firstSeenAt: Date

    public var key: Key { Key(rule: rule, subject: subject, host: host) }

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
public struct AlertEvaluation: Sendable {
    public enum Scope: Sendable, Equatable {
        /// Threshold episodes of one host.
        case thresholds(host: String)
        /// Every built-in episode.
        case builtin
    }

    public var scope: Scope
    public var conditions: [AlertCondition]
    public var undecided: Set<AlertCondition.Key>
    /// Why a key is clear now (`disk.used_percent of / on nuc is 70 %`), for resolved messages.
    public var cleared: [AlertCondition.Key: String]

    public init(scope: Scope, conditions: [AlertCondition] = [], undecided: Set<AlertCondition.Key> = [],
                cleared: [AlertCondition.Key: String] = [:]) {
        self.scope = scope
        self.conditions = conditions
        self.undecided = undecided
        self.cleared = cleared
    }
}
