import Foundation
import Health
import PostgresClient
import Settings
import Support

/// Judges the thresholds on one stored health run. A value crossing a level fires at once, or,
/// with `for:`, once the stored samples show it crossed continuously for that long. A sample
/// without a number keeps its episode as it is, except `absent` (no sensor, no swap), which
/// never fires and resolves.
package struct ThresholdEvaluator: Sendable {
    let rules: [ThresholdRule]

    package init(rules: [ThresholdRule]) {
        self.rules = rules
    }

    /// The run must already be stored: `for:` reads the samples before and including it.
    package func evaluate(_ run: HealthRun, on connection: PostgresConnection) async throws -> AlertEvaluation {
        var evaluation = AlertEvaluation(scope: .thresholds(host: run.host))
        for sample in run.samples {
            guard let rule = rules.rule(metric: sample.metric, subject: sample.subject) else { continue }
            let key = AlertCondition.Key(rule: sample.metric, subject: sample.subject, host: run.host)
            guard let value = sample.value else {
                if sample.status == .absent {
                    evaluation.cleared[key] = "\(Self.what(sample, host: run.host)) is not present (\(sample.message ?? "absent"))"
                } else {
                    evaluation.undecided.insert(key)
                }
                continue
            }
            guard let (crossed, _) = rule.severity(of: value) else {
                let level = rule.warning ?? rule.critical ?? 0
                evaluation.cleared[key] = "\(Self.what(sample, host: run.host)) is \(Self.amount(value, sample.unit)) "
                    + "(\(rule.warning == nil ? "critical" : "warning") \(rule.below ? "below" : "above") \(Self.amount(level, sample.unit)))"
                continue
            }
            // The highest level held long enough; with `for:` a critical value may fire as a warning first.
            var fired: (AlertSeverity, Double, Date)?
            for severity in [AlertSeverity.critical, .warning] where severity <= crossed {
                guard let level = severity == .critical ? rule.critical : rule.warning, rule.crosses(value, level) else { continue }
                let since = try await Self.conditionStart(host: run.host, sample: sample, level: level, below: rule.below,
                                                          until: run.takenAt, on: connection) ?? run.takenAt
                // Stored times have microseconds; the run's own time may round up to after itself.
                if run.takenAt.timeIntervalSince(since) >= Double(rule.forSeconds) - 0.001 {
                    fired = (severity, level, since)
                    break
                }
            }
            guard let (severity, level, since) = fired else {
                // Crossing, but not for long enough yet: an open episode (if any) stays.
                evaluation.undecided.insert(key)
                continue
            }
            var details: [String: JSONValue] = ["category": .string(sample.category.rawValue), "direction": .string(rule.below ? "below" : "above")]
            if let unit = sample.unit { details["unit"] = .string(unit) }
            if rule.forSeconds > 0 { details["for_seconds"] = .int(Int64(rule.forSeconds)) }
            if let warning = rule.warning { details["warning"] = .double(warning) }
            if let critical = rule.critical { details["critical"] = .double(critical) }
            if let message = sample.message { details["message"] = .string(message) }
            evaluation.conditions.append(AlertCondition(
                rule: sample.metric, source: .threshold, subject: sample.subject, host: run.host, severity: severity,
                value: value, threshold: level, summary: Self.summary(sample, value: value, level: level, below: rule.below, host: run.host),
                details: details, firstSeenAt: since
            ))
        }
        return evaluation
    }

    /// The oldest sample of the newest unbroken run of samples crossing `level`, up to `until`.
    /// A sample that does not cross, or has no number, breaks the run.
    static func conditionStart(host: String, sample: HealthSample, level: Double, below: Bool, until: Date,
                               on connection: PostgresConnection) async throws -> Date? {
        try await connection.query(
            """
            SELECT min(s.taken_at) AS since
            FROM orchestrator.health_samples s
            WHERE s.host = $1 AND s.metric = $2 AND s.subject = $3 AND s.taken_at <= $4
              AND s.taken_at > coalesce((
                    SELECT max(b.taken_at) FROM orchestrator.health_samples b
                    WHERE b.host = $1 AND b.metric = $2 AND b.subject = $3 AND b.taken_at <= $4
                      AND (b.value IS NULL OR NOT (CASE WHEN $6::boolean THEN b.value < $5::float8 ELSE b.value > $5::float8 END))
                  ), '-infinity'::timestamptz)
            """,
            [host, sample.metric, sample.subject, until, level, below]
        ).first?.decodeIfPresent("since")
    }

    static func summary(_ sample: HealthSample, value: Double, level: Double, below: Bool, host: String) -> String {
        "\(what(sample, host: host)) is \(amount(value, sample.unit)) (\(below ? "below" : "above") \(amount(level, sample.unit)))"
    }

    static func what(_ sample: HealthSample, host: String) -> String {
        sample.subject == "host" ? "\(sample.metric) on \(host)" : "\(sample.metric) of \(sample.subject) on \(host)"
    }

    static func amount(_ value: Double, _ unit: String?) -> String {
        let suffix = unit == "percent" ? " %" : unit.map { " \($0)" } ?? ""
        return AlertNotice.format(value) + suffix
    }
}
