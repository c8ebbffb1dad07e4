/// `alerts.builtin`: alerts about the orchestrator itself, each with `enabled`, `severity` and
/// one limit.
package struct BuiltinAlertSettings: Sendable, Decodable, Equatable {
    /// A job failed after its last attempt: one alert per kind and target, firing while the
    /// newest finished job of that kind and target failed within `window_hours`.
    package var jobFailed: BuiltinAlertRule
    /// A schedule's due occurrence has not started `grace_minutes` after its time.
    package var scheduleOverdue: BuiltinAlertRule
    /// A host's workers have all stopped heartbeating for `after_minutes` without stopping cleanly.
    package var workerHeartbeat: BuiltinAlertRule
    /// A profile's newest verified backup is older than `after_hours` (default `backups.warn_after_hours`).
    package var backupStale: BuiltinAlertRule
    /// A profile's newest passed restore drill is older than `after_days` (default `backups.drill_warn_after_days`).
    package var drillStale: BuiltinAlertRule
    /// A profile's newest verified copy in a repository of its `copy_to:` holds a backup older
    /// than `after_hours` (default the repository's `warn_after_hours`), or there is none.
    package var copyStale: BuiltinAlertRule
    /// A server's finished WAL segment has waited for archiving `after_minutes` (default
    /// `wal_archive.warn_behind_minutes`); judged from the newest health samples.
    package var walArchiveBehind: BuiltinAlertRule
    /// A server's most recent archive attempt failed (and nothing was archived since).
    package var walArchiveFailing: BuiltinAlertRule
    /// The repository misses segments between a timeline's first and last; one alert per timeline.
    package var walArchiveGap: BuiltinAlertRule
    /// `wal_stream`'s slot has had no receiver connected for `after_minutes`: nothing is
    /// archived meanwhile, and the slot keeps all WAL since on the server's disk.
    package var walStreamStopped: BuiltinAlertRule
    /// A replication slot keeps more than `above_mb` of WAL on its server: a stuck or
    /// abandoned slot fills the server's disk, so critical by default.
    package var walSlotRetained: BuiltinAlertRule
    /// Segments wait in a spool (the stream spool's completed segments, or those the
    /// asynchronous pusher has not stored) longer than `after_minutes` (default
    /// `wal_archive.warn_behind_minutes`).
    package var walSpoolBehind: BuiltinAlertRule

    enum CodingKeys: String, CodingKey, CaseIterable {
        case jobFailed = "job_failed", scheduleOverdue = "schedule_overdue", workerHeartbeat = "worker_heartbeat"
        case backupStale = "backup_stale", drillStale = "drill_stale", copyStale = "copy_stale"
        case walArchiveBehind = "wal_archive_behind", walArchiveFailing = "wal_archive_failing", walArchiveGap = "wal_archive_gap"
        case walStreamStopped = "wal_stream_stopped", walSlotRetained = "wal_slot_retained", walSpoolBehind = "wal_spool_behind"
    }


    package init(
        jobFailed: BuiltinAlertRule = BuiltinAlertRule(severity: .warning, limit: 24),
        scheduleOverdue: BuiltinAlertRule = BuiltinAlertRule(severity: .warning, limit: 15),
        workerHeartbeat: BuiltinAlertRule = BuiltinAlertRule(severity: .critical, limit: 10),
        backupStale: BuiltinAlertRule = BuiltinAlertRule(severity: .critical),
        drillStale: BuiltinAlertRule = BuiltinAlertRule(severity: .warning),
        copyStale: BuiltinAlertRule = BuiltinAlertRule(severity: .warning),
        walArchiveBehind: BuiltinAlertRule = BuiltinAlertRule(severity: .warning),
        walArchiveFailing: BuiltinAlertRule = BuiltinAlertRule(severity: .critical),
        walArchiveGap: BuiltinAlertRule = BuiltinAlertRule(severity: .critical),
        walStreamStopped: BuiltinAlertRule = BuiltinAlertRule(severity: .critical, limit: 5),
        walSlotRetained: BuiltinAlertRule = BuiltinAlertRule(severity: .critical, limit: Self.defaultSlotRetainedMB),
        walSpoolBehind: BuiltinAlertRule = BuiltinAlertRule(severity: .warning)
    ) {
        self.walStreamStopped = walStreamStopped
        self.walSlotRetained = walSlotRetained
        self.walSpoolBehind = walSpoolBehind
        self.walArchiveBehind = walArchiveBehind
        self.walArchiveFailing = walArchiveFailing
        self.walArchiveGap = walArchiveGap
        self.jobFailed = jobFailed
        self.scheduleOverdue = scheduleOverdue
        self.workerHeartbeat = workerHeartbeat
        self.backupStale = backupStale
        self.drillStale = drillStale
        self.copyStale = copyStale
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = BuiltinAlertSettings()
        jobFailed = try c.decodeIfPresent(Keyed<JobFailedKeys>.self, forKey: .jobFailed)?.rule ?? defaults.jobFailed
        scheduleOverdue = try c.decodeIfPresent(Keyed<ScheduleOverdueKeys>.self, forKey: .scheduleOverdue)?.rule ?? defaults.scheduleOverdue
        workerHeartbeat = try c.decodeIfPresent(Keyed<WorkerHeartbeatKeys>.self, forKey: .workerHeartbeat)?.rule ?? defaults.workerHeartbeat
        backupStale = try c.decodeIfPresent(Keyed<BackupStaleKeys>.self, forKey: .backupStale)?.rule ?? defaults.backupStale
        drillStale = try c.decodeIfPresent(Keyed<DrillStaleKeys>.self, forKey: .drillStale)?.rule ?? defaults.drillStale
        copyStale = try c.decodeIfPresent(Keyed<CopyStaleKeys>.self, forKey: .copyStale)?.rule ?? defaults.copyStale
        walArchiveBehind = try c.decodeIfPresent(Keyed<WALArchiveBehindKeys>.self, forKey: .walArchiveBehind)?.rule ?? defaults.walArchiveBehind
        walArchiveFailing = try c.decodeIfPresent(Keyed<WALArchiveFailingKeys>.self, forKey: .walArchiveFailing)?.rule ?? defaults.walArchiveFailing
        walArchiveGap = try c.decodeIfPresent(Keyed<WALArchiveGapKeys>.self, forKey: .walArchiveGap)?.rule ?? defaults.walArchiveGap
        walStreamStopped = try c.decodeIfPresent(Keyed<WALStreamStoppedKeys>.self, forKey: .walStreamStopped)?.rule ?? defaults.walStreamStopped
        walSlotRetained = try c.decodeIfPresent(Keyed<WALSlotRetainedKeys>.self, forKey: .walSlotRetained)?.rule ?? defaults.walSlotRetained
        walSpoolBehind = try c.decodeIfPresent(Keyed<WALSpoolBehindKeys>.self, forKey: .walSpoolBehind)?.rule ?? defaults.walSpoolBehind
    }

    /// 2 GB: a slot whose receiver keeps up holds a segment or two; this much is a receiver
    /// stopped for a good while on a busy server, still far from filling a small host's disk.
    package static let defaultSlotRetainedMB = 2048
}

/// One built-in alert: on or off, its severity, and its limit (hours, minutes, days or MB: the key
/// says which). A nil limit takes the related `backups:` setting.
package struct BuiltinAlertRule: Sendable, Equatable {
    package var enabled: Bool
    package var severity: AlertSeverity
    package var limit: Int?

    package init(enabled: Bool = true, severity: AlertSeverity, limit: Int? = nil) {
        self.enabled = enabled
        self.severity = severity
        self.limit = limit
    }

    init(from decoder: any Decoder, limitKey: String?, defaults: BuiltinAlertRule) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        let allowed = ["enabled", "severity"] + (limitKey.map { [$0] } ?? [])
        for key in c.allKeys where !allowed.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath + [key], debugDescription: "unknown key; allowed: \(allowed.joined(separator: ", "))"
            ))
        }
        enabled = try c.decode(AnyCodingKey(stringValue: "enabled"), default: defaults.enabled)
        let severityKey = AnyCodingKey(stringValue: "severity")
        if let text = try c.decodeIfPresent(String.self, forKey: severityKey) {
            guard let parsed = AlertSeverity(rawValue: text) else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: decoder.codingPath + [severityKey], debugDescription: "must be warning or critical, got \(text.debugDescription)"
                ))
            }
            severity = parsed
        } else {
            severity = defaults.severity
        }
        limit = try limitKey.flatMap { try c.decodeIfPresent(Int.self, forKey: AnyCodingKey(stringValue: $0)) } ?? defaults.limit
    }
}

/// The limit key and defaults of one built-in rule, so each decodes with its own allowed keys.
protocol BuiltinRuleKeys {
    /// Nil for a rule without a limit (it fires on what the newest sample says).
    static var limitKey: String? { get }
    static var defaults: BuiltinAlertRule { get }
}

enum JobFailedKeys: BuiltinRuleKeys {
    static let limitKey: String? = "window_hours"
    static var defaults: BuiltinAlertRule { BuiltinAlertSettings().jobFailed }
}

enum ScheduleOverdueKeys: BuiltinRuleKeys {
    static let limitKey: String? = "grace_minutes"
    static var defaults: BuiltinAlertRule { BuiltinAlertSettings().scheduleOverdue }
}

enum WorkerHeartbeatKeys: BuiltinRuleKeys {
    static let limitKey: String? = "after_minutes"
    static var defaults: BuiltinAlertRule { BuiltinAlertSettings().workerHeartbeat }
}

enum BackupStaleKeys: BuiltinRuleKeys {
    static let limitKey: String? = "after_hours"
    static var defaults: BuiltinAlertRule { BuiltinAlertSettings().backupStale }
}

enum DrillStaleKeys: BuiltinRuleKeys {
    static let limitKey: String? = "after_days"
    static var defaults: BuiltinAlertRule { BuiltinAlertSettings().drillStale }
}

enum CopyStaleKeys: BuiltinRuleKeys {
    static let limitKey: String? = "after_hours"
    static var defaults: BuiltinAlertRule { BuiltinAlertSettings().copyStale }
}

enum WALArchiveBehindKeys: BuiltinRuleKeys {
    static let limitKey: String? = "after_minutes"
    static var defaults: BuiltinAlertRule { BuiltinAlertSettings().walArchiveBehind }
}

/// Fires on the newest sample: no limit.
enum WALArchiveFailingKeys: BuiltinRuleKeys {
    static let limitKey: String? = nil
    static var defaults: BuiltinAlertRule { BuiltinAlertSettings().walArchiveFailing }
}

enum WALArchiveGapKeys: BuiltinRuleKeys {
    static let limitKey: String? = nil
    static var defaults: BuiltinAlertRule { BuiltinAlertSettings().walArchiveGap }
}

enum WALStreamStoppedKeys: BuiltinRuleKeys {
    static let limitKey: String? = "after_minutes"
    static var defaults: BuiltinAlertRule { BuiltinAlertSettings().walStreamStopped }
}

enum WALSlotRetainedKeys: BuiltinRuleKeys {
    static let limitKey: String? = "above_mb"
    static var defaults: BuiltinAlertRule { BuiltinAlertSettings().walSlotRetained }
}

enum WALSpoolBehindKeys: BuiltinRuleKeys {
    static let limitKey: String? = "after_minutes"
    static var defaults: BuiltinAlertRule { BuiltinAlertSettings().walSpoolBehind }
}

struct Keyed<Keys: BuiltinRuleKeys>: Decodable {
    let rule: BuiltinAlertRule
    init(from decoder: any Decoder) throws {
        rule = try BuiltinAlertRule(from: decoder, limitKey: Keys.limitKey, defaults: Keys.defaults)
    }
}
