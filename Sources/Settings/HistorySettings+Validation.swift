import Cron

extension Configuration {
    func validateHistory() -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func days(_ value: Int, _ key: String) {
            if !(1...36_500).contains(value) {
                problems.append(ConfigurationError(path: "history.\(key)", "must be 1...36500 days, got \(value)"))
            }
        }
        days(history.keepSucceededDays, "keep_succeeded_days")
        days(history.keepFailedDays, "keep_failed_days")
        days(history.keepOccurrencesDays, "keep_occurrences_days")
        days(history.keepAlertsDays, "keep_alerts_days")
        days(history.keepDeliveriesDays, "keep_deliveries_days")
        days(history.keepBackupRecordsDays, "keep_backup_records_days")
        if history.keepDeliveriesDays > history.keepAlertsDays {
            problems.append(ConfigurationError(
                path: "history.keep_deliveries_days",
                "must not exceed keep_alerts_days (\(history.keepAlertsDays)): deliveries go with their alert, got \(history.keepDeliveriesDays)"
            ))
        }
        if !(1...60_000).contains(history.targetBatchMs) {
            problems.append(ConfigurationError(path: "history.target_batch_ms", "must be 1...60000, got \(history.targetBatchMs)"))
        }
        if history.enabled, let error = Result(catching: { try CronExpression(history.schedule) }).failure {
            problems.append(ConfigurationError(path: "history.schedule", "\(error) (five fields in UTC, e.g. \"40 3 * * *\")"))
        }
        return problems
    }
}

private extension Result {
    var failure: Failure? { if case .failure(let error) = self { error } else { nil } }
}
