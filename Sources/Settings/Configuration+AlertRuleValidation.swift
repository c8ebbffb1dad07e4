extension Configuration {
    /// `alerts.thresholds`, `repeat_minutes`, `channels_for` and `builtin`, each problem with its path.
    func validateAlertRules() -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func check(_ condition: Bool, _ path: String, _ message: String) {
            if !condition { problems.append(ConfigurationError(path: path, message)) }
        }
        check((0...10_080).contains(alerts.repeatMinutes), "alerts.repeat_minutes", "must be 0...10080 (0: never repeat), got \(alerts.repeatMinutes)")

        let configured = alerts.channels.keys.sorted()
        if let routing = alerts.channelsFor {
            for (severity, names) in [("warning", routing.warning), ("critical", routing.critical)] {
                for (index, name) in names.enumerated() where alerts.channels[name] == nil {
                    problems.append(ConfigurationError(
                        path: "alerts.channels_for.\(severity)[\(index)]",
                        configured.isEmpty
                            ? "unknown channel \(name.debugDescription): no channels are configured under alerts.channels"
                            : "unknown channel \(name.debugDescription); configured channels: \(configured.joined(separator: ", "))"
                    ))
                }
            }
        }

        for (index, rule) in alerts.thresholds.enumerated() {
            let path = "alerts.thresholds[\(index)]"
            guard HealthMetricCatalog.names.contains(rule.metric) else {
                problems.append(ConfigurationError(
                    path: "\(path).metric",
                    "unknown metric \(rule.metric.debugDescription); metrics: \(HealthMetricCatalog.names.sorted().joined(separator: ", "))"
                ))
                continue
            }
            if let subject = rule.subject {
                check(!subject.isEmpty && subject.utf8.count <= 1024, "\(path).subject", "must be 1 to 1024 characters")
            }
            guard rule.enabled else { continue }
            check(rule.warning != nil || rule.critical != nil, path, "set warning, critical or both (or enabled: false to silence the metric)")
            for (key, level) in [("warning", rule.warning), ("critical", rule.critical)] {
                if let level { check(level.isFinite, "\(path).\(key)", "must be a finite number") }
            }
            if let warning = rule.warning, let critical = rule.critical {
                check(rule.below ? critical < warning : critical > warning, "\(path).critical",
                      rule.below ? "must be below warning (\(warning)) when below: true" : "must be above warning (\(warning))")
            }
            check((0...604_800).contains(rule.forSeconds), "\(path).for", "must be at most 7 days")
        }

        let builtin = alerts.builtin
        let limits: [(String, String, BuiltinAlertRule, ClosedRange<Int>)] = [
            ("job_failed", "window_hours", builtin.jobFailed, 1...720),
            ("schedule_overdue", "grace_minutes", builtin.scheduleOverdue, 1...1440),
            ("worker_heartbeat", "after_minutes", builtin.workerHeartbeat, 1...1440),
            ("backup_stale", "after_hours", builtin.backupStale, 1...8760),
            ("copy_stale", "after_hours", builtin.copyStale, 1...8760),
            ("drill_stale", "after_days", builtin.drillStale, 1...3650),
            ("wal_archive_behind", "after_minutes", builtin.walArchiveBehind, 1...10_080),
            ("wal_stream_stopped", "after_minutes", builtin.walStreamStopped, 1...10_080),
            ("wal_slot_retained", "above_mb", builtin.walSlotRetained, 16...16_777_216),
            ("wal_spool_behind", "after_minutes", builtin.walSpoolBehind, 1...10_080),
        ]
        for (name, key, rule, range) in limits {
            if let limit = rule.limit {
                check(range.contains(limit), "alerts.builtin.\(name).\(key)", "must be \(range.lowerBound)...\(range.upperBound), got \(limit)")
            }
        }
        return problems
    }
}
