import Runtime
import Settings

extension JobKindRegistry {
    /// Every kind shipped with orchestrator.
    package static let standard = JobKindRegistry(kinds: [
        NoopJob(), SQLStatementJob(), BackupJob(), BaseBackupJob(), RestoreJob(), RestoreDrillJob(), PointInTimeDrillJob(), PruneBackupsJob(), CopyBackupJob(),
        VacuumJob(), AnalyzeJob(), ReindexJob(), FileRetentionJob(), RetentionJob(), HealthJob(),
        CheckAlertsJob(), PruneHistoryJob(),
    ], isPermanent: FailurePolicy.isPermanent)
}

extension Configuration {
    /// Loads and validates a configuration against the standard kinds.
    package static func load(path: String?) throws -> Loaded {
        try load(path: path, checkingJobsWith: JobKindRegistry.standard)
    }
}
