import Cron

/// `history:`: how long the orchestrator's own records are kept, and when the built-in
/// `prune-history` job deletes older ones (see `HistoryRetention`).
package struct HistorySettings: Sendable, Decodable, Equatable {
    /// Whether the built-in `prune-history` schedule is added to `schedules:`.
    package var enabled: Bool
    /// Five-field cron (UTC) of the built-in schedule.
    package var schedule: String
    /// Succeeded jobs and their runs, by `finished_at`.
    package var keepSucceededDays: Int
    /// Failed and cancelled jobs and their runs.
    package var keepFailedDays: Int
    package var keepOccurrencesDays: Int
    /// Resolved alerts with all their deliveries; firing alerts are never pruned.
    package var keepAlertsDays: Int
    /// Deliveries of resolved alerts (the alert itself stays until `keep_alerts_days`).
    package var keepDeliveriesDays: Int
    /// Verifications and restore drills of backups that were deleted; those of existing backups stay.
    package var keepBackupRecordsDays: Int
    /// As `retention.*.target_batch_ms`: the longest a delete batch should hold its row locks.
    package var targetBatchMs: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, schedule
        case keepSucceededDays = "keep_succeeded_days", keepFailedDays = "keep_failed_days"
        case keepOccurrencesDays = "keep_occurrences_days", keepAlertsDays = "keep_alerts_days"
        case keepDeliveriesDays = "keep_deliveries_days", keepBackupRecordsDays = "keep_backup_records_days"
        case targetBatchMs = "target_batch_ms"
    }

    package init(
        enabled: Bool = true, schedule: String = "40 3 * * *", keepSucceededDays: Int = 90, keepFailedDays: Int = 365,
        keepOccurrencesDays: Int = 90, keepAlertsDays: Int = 365, keepDeliveriesDays: Int = 90,
        keepBackupRecordsDays: Int = 365, targetBatchMs: Int = 50
    ) {
        self.enabled = enabled
        self.schedule = schedule
        self.keepSucceededDays = keepSucceededDays
        self.keepFailedDays = keepFailedDays
        self.keepOccurrencesDays = keepOccurrencesDays
        self.keepAlertsDays = keepAlertsDays
        self.keepDeliveriesDays = keepDeliveriesDays
        self.keepBackupRecordsDays = keepBackupRecordsDays
        self.targetBatchMs = targetBatchMs
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = HistorySettings()
        enabled = try c.decode(.enabled, default: d.enabled)
        schedule = try c.decode(.schedule, default: d.schedule)
        keepSucceededDays = try c.decode(.keepSucceededDays, default: d.keepSucceededDays)
        keepFailedDays = try c.decode(.keepFailedDays, default: d.keepFailedDays)
        keepOccurrencesDays = try c.decode(.keepOccurrencesDays, default: d.keepOccurrencesDays)
        keepAlertsDays = try c.decode(.keepAlertsDays, default: d.keepAlertsDays)
        keepDeliveriesDays = try c.decode(.keepDeliveriesDays, default: d.keepDeliveriesDays)
        keepBackupRecordsDays = try c.decode(.keepBackupRecordsDays, default: d.keepBackupRecordsDays)
        targetBatchMs = try c.decode(.targetBatchMs, default: d.targetBatchMs)
    }

    /// The job kind that prunes history, named here so the built-in schedule can refer to it.
    package static let jobKind = "prune-history"

    /// The schedule `prune-history` runs on, unless disabled or the operator schedules the kind.
    package static let scheduleName = "prune-history"

    func builtinSchedule(besides schedules: [ScheduleDefinition]) -> ScheduleDefinition? {
        // An invalid cron is reported at history.schedule by validation, not as a schedule.
        guard enabled, (try? CronExpression(schedule)) != nil, !schedules.contains(where: { $0.name == Self.scheduleName || $0.kind == Self.jobKind }) else { return nil }
        return ScheduleDefinition(name: Self.scheduleName, cron: schedule, kind: Self.jobKind)
    }
}
