import Queue

/// `orchestrator_job_run_duration_seconds`, a Prometheus histogram by kind of the runs started in
/// the last 24 hours. The bucket counts are computed by the database at scrape time, and a
/// client histogram can only count observations it makes itself, so this family is written
/// directly in the text exposition format, after the registry's.
enum RunDurationHistogram {
    static let name = "orchestrator_job_run_duration_seconds"

    static func text(_ durations: [QueueMetrics.Durations]) -> String {
        guard !durations.isEmpty else { return "" }
        var lines = [
            "# HELP \(name) Duration of the closed runs started in the last 24 hours, by kind.",
            "# TYPE \(name) histogram",
        ]
        for kind in durations {
            let label = "kind=\"\(escaped(kind.kind))\""
            for (bound, count) in zip(QueueMetrics.durationBounds, kind.atMost) {
                lines.append("\(name)_bucket{\(label),le=\"\(bound)\"} \(count)")
            }
            lines.append("\(name)_bucket{\(label),le=\"+Inf\"} \(kind.runs)")
            lines.append("\(name)_sum{\(label)} \(kind.totalSeconds)")
            lines.append("\(name)_count{\(label)} \(kind.runs)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A label value as the exposition format writes it: backslash, quote and newline escaped.
    static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
