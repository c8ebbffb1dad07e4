import Foundation

/// `alerts.thresholds[N]`: warning and critical levels of one health metric, optionally for
/// matching subjects only, optionally held for a while before firing.
///
/// ```yaml
/// - {metric: disk.used_percent, subject: /var/backups, warning: 80, critical: 95}
/// - {metric: cpu.usage_percent, warning: 80, critical: 95, for: 10m}
/// - {metric: check.value, subject: trades-24h, below: true, critical: 1}   # alert when 0
/// - {metric: temperature.celsius, enabled: false}
/// ```
package struct ThresholdRule: Sendable, Decodable, Equatable {
    /// A health metric name (`disk.used_percent`); see `HealthMetricCatalog`.
    package var metric: String
    /// Exact subject or a pattern with `*` and `?` (`/var/*`, `trading/*`); nil matches every subject.
    package var subject: String?
    package var warning: Double?
    package var critical: Double?
    /// Fire when the value is below the level instead of above it (free space, a count that must not be 0).
    package var below: Bool
    /// The condition must hold this long, judged from stored samples, before the alert fires.
    package var forSeconds: Int
    /// `false` silences the metric (or the matching subjects), defaults included.
    package var enabled: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case metric, subject, warning, critical, below, `for`, enabled
    }

    package init(metric: String, subject: String? = nil, warning: Double? = nil, critical: Double? = nil, below: Bool = false,
                forSeconds: Int = 0, enabled: Bool = true) {
        self.metric = metric
        self.subject = subject
        self.warning = warning
        self.critical = critical
        self.below = below
        self.forSeconds = forSeconds
        self.enabled = enabled
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metric = try c.decode(String.self, forKey: .metric)
        subject = try c.decodeIfPresent(ScalarText.self, forKey: .subject)?.text
        warning = try c.decodeIfPresent(Double.self, forKey: .warning)
        critical = try c.decodeIfPresent(Double.self, forKey: .critical)
        below = try c.decode(.below, default: false)
        forSeconds = try c.decodeIfPresent(DurationText.self, forKey: .for)?.seconds ?? 0
        enabled = try c.decode(.enabled, default: true)
    }

    /// The levels of the old health script (warning) with critical levels above them. CPU must
    /// stay high for 5 minutes, since one busy second is normal; services must be up.
    package static let defaults: [ThresholdRule] = [
        ThresholdRule(metric: "cpu.usage_percent", warning: 80, critical: 95, forSeconds: 300),
        ThresholdRule(metric: "memory.used_percent", warning: 85, critical: 95),
        ThresholdRule(metric: "disk.used_percent", warning: 90, critical: 95),
        ThresholdRule(metric: "temperature.celsius", warning: 75, critical: 85),
        ThresholdRule(metric: "pg.up", critical: 1, below: true),
        ThresholdRule(metric: "systemd.active", critical: 1, below: true),
        ThresholdRule(metric: "tcp.up", critical: 1, below: true),
        ThresholdRule(metric: "http.up", critical: 1, below: true),
        // An HTTPS endpoint's certificate: three weeks to renew it, one week before it is urgent.
        ThresholdRule(metric: "http.cert_days_left", warning: 21, critical: 7, below: true),
    ]

    /// Whether `value` crosses `level` in this rule's direction (strictly: 90 % is not above 90).
    package func crosses(_ value: Double, _ level: Double) -> Bool {
        below ? value < level : value > level
    }

    /// The highest level `value` crosses, with that level.
    package func severity(of value: Double) -> (AlertSeverity, Double)? {
        if let critical, crosses(value, critical) { return (.critical, critical) }
        if let warning, crosses(value, warning) { return (.warning, warning) }
        return nil
    }

    package func matches(metric: String, subject: String) -> Bool {
        guard metric == self.metric else { return false }
        guard let pattern = self.subject else { return true }
        return Self.glob(pattern, subject)
    }

    /// `*` matches any run of characters (slashes included), `?` one character; nothing else is special.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1; ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

extension Array where Element == ThresholdRule {
    /// The rule for one sample: the first configured rule matching it, else the default for its
    /// metric. A disabled match means no rule.
    package func rule(metric: String, subject: String) -> ThresholdRule? {
        if let configured = first(where: { $0.matches(metric: metric, subject: subject) }) {
            return configured.enabled ? configured : nil
        }
        return ThresholdRule.defaults.first { $0.metric == metric }
    }
}
