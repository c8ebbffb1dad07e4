import Foundation

/// The whole configuration file (YAML). Every section is optional; defaults suit one small host.
package struct Configuration: Sendable, Decodable {
    package var database: DatabaseSettings
    package var worker: WorkerSettings
    package var scheduler: SchedulerSettings
    /// Application databases that jobs act on, by short name (`trading: {dbname: trading_agent}`).
    package var databases: [String: TargetDatabase]
    /// Named SQL statements the `sql` kind may run; SQL never comes from the command line.
    package var statements: [String: NamedStatement]
    package var schedules: [ScheduleDefinition]
    /// Per-kind overrides of attempts and timeout.
    package var kinds: [String: KindSettings]
    package var backups: BackupSettings
    /// Old-file cleanup policies for the `file-retention` kind.
    package var fileRetention: [String: FileRetentionPolicy]
    /// Old-row deletion policies for the `retention` kind.
    package var retention: [String: RetentionDeletePolicy]
    /// Alert delivery channels (and, later, alert rules).
    package var alerts: AlertSettings
    /// What health sampling measures and how long its history is kept.
    package var health: HealthSettings
    /// How long jobs, runs, occurrences, alerts and backup records are kept.
    package var history: HistorySettings
    /// Where `wal-push` stores WAL (the same repository as in its own small settings file);
    /// base-backup retention, point-in-time restore and archive checks read it from here.
    package var walArchive: WALArchiveSettings?
    /// WAL streamed by a supervised `pg_receivewal`; nil when not configured.
    package var walStream: WALStreamSettings?
    /// The dashboard served by `orchestrator serve`.
    package var web: WebSettings
    /// Places off this host that profiles copy their verified backups to (`copy_to:`).
    package var repositories: [String: RepositorySettings]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case database, worker, scheduler, databases, statements, schedules, kinds, backups
        case fileRetention = "file_retention", retention
        case alerts, health, history, walArchive = "wal_archive"
        case walStream = "wal_stream", web, repositories
    }

    package init(
        database: DatabaseSettings = .init(), worker: WorkerSettings = .init(), scheduler: SchedulerSettings = .init(),
        databases: [String: TargetDatabase] = [:], statements: [String: NamedStatement] = [:],
        schedules: [ScheduleDefinition] = [], kinds: [String: KindSettings] = [:], backups: BackupSettings = BackupSettings(),
        fileRetention: [String: FileRetentionPolicy] = [:], retention: [String: RetentionDeletePolicy] = [:],
        alerts: AlertSettings = AlertSettings(), health: HealthSettings = HealthSettings(),
        history: HistorySettings = HistorySettings(), walArchive: WALArchiveSettings? = nil, walStream: WALStreamSettings? = nil,
        web: WebSettings = WebSettings(), repositories: [String: RepositorySettings] = [:]
    ) {
        self.repositories = repositories
        self.web = web
        self.walArchive = walArchive
        self.walStream = walStream
        self.history = history
        self.alerts = alerts
        self.retention = retention
        self.health = health
        self.backups = backups
        self.fileRetention = fileRetention
        self.database = database
        self.worker = worker
        self.scheduler = scheduler
        self.databases = databases
        self.statements = statements
        self.schedules = schedules
        self.kinds = kinds
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        database = try c.decode(.database, default: DatabaseSettings())
        worker = try c.decode(.worker, default: WorkerSettings())
        scheduler = try c.decode(.scheduler, default: SchedulerSettings())
        databases = try c.decode(.databases, default: [:])
        statements = try c.decode(.statements, default: [:])
        schedules = try c.decode(.schedules, default: [])
        kinds = try c.decode(.kinds, default: [:])
        backups = try c.decode(.backups, default: BackupSettings())
        fileRetention = try c.decode(.fileRetention, default: [:])
        retention = try c.decode(.retention, default: [:])
        alerts = try c.decode(.alerts, default: AlertSettings())
        health = try c.decode(.health, default: HealthSettings())
        history = try c.decode(.history, default: HistorySettings())
        walArchive = try c.decodeIfPresent(WALArchiveSettings.self, forKey: .walArchive)
        walStream = try c.decodeIfPresent(WALStreamSettings.self, forKey: .walStream)
        web = try c.decode(.web, default: WebSettings())
        repositories = try c.decode(.repositories, default: [:])
        // History is pruned without the operator listing a schedule; their own one wins.
        if let builtin = history.builtinSchedule(besides: schedules) { schedules.append(builtin) }
    }
}

/// Where the orchestrator's own database is. Secrets are never written in the file: the URL
/// comes from an environment variable or a file readable only by the service user.
package struct DatabaseSettings: Sendable, Decodable {
    /// Environment variable holding a `postgresql://` URL or conninfo string.
    package var urlEnv: String
    /// A file holding the URL (e.g. a systemd credential); wins over `url_env` when set.
    package var urlFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case urlEnv = "url_env", urlFile = "url_file"
    }

    package init(urlEnv: String = "ORCHESTRATOR_DATABASE_URL", urlFile: String? = nil) {
        self.urlEnv = urlEnv
        self.urlFile = urlFile
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        urlEnv = try c.decode(.urlEnv, default: "ORCHESTRATOR_DATABASE_URL")
        urlFile = try c.decodeIfPresent(String.self, forKey: .urlFile)
    }
}

package struct WorkerSettings: Sendable, Decodable, Equatable {
    /// Jobs run at once by one worker process.
    package var concurrency: Int
    /// Shared queues served; the worker's own `host:<hostname>` queue is always added.
    package var queues: [String]
    /// How long a claimed job stays ours without a heartbeat.
    package var leaseSeconds: Int
    package var heartbeatSeconds: Int
    /// How often this worker looks for other workers' expired leases.
    package var reaperSeconds: Int
    /// Longest sleep between claim attempts when no notification arrives.
    package var pollSeconds: Int
    /// On SIGTERM, how long running jobs may finish before they are cancelled and released.
    package var shutdownGraceSeconds: Int
    /// Jobs of short kinds (such as `noop`) claimed ahead of a free slot, so a burst of them
    /// costs one claim per batch. 0 claims only for idle slots. Long kinds are never claimed ahead.
    package var prefetch: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case concurrency, queues
        case leaseSeconds = "lease_seconds", heartbeatSeconds = "heartbeat_seconds", reaperSeconds = "reaper_seconds"
        case pollSeconds = "poll_seconds", shutdownGraceSeconds = "shutdown_grace_seconds", prefetch
    }

    package init(
        concurrency: Int = 2, queues: [String] = ["default"], leaseSeconds: Int = 60, heartbeatSeconds: Int = 15,
        reaperSeconds: Int = 30, pollSeconds: Int = 10, shutdownGraceSeconds: Int = 30, prefetch: Int = 32
    ) {
        self.prefetch = prefetch
        self.concurrency = concurrency
        self.queues = queues
        self.leaseSeconds = leaseSeconds
        self.heartbeatSeconds = heartbeatSeconds
        self.reaperSeconds = reaperSeconds
        self.pollSeconds = pollSeconds
        self.shutdownGraceSeconds = shutdownGraceSeconds
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = WorkerSettings()
        concurrency = try c.decode(.concurrency, default: defaults.concurrency)
        queues = try c.decode(.queues, default: defaults.queues)
        leaseSeconds = try c.decode(.leaseSeconds, default: defaults.leaseSeconds)
        heartbeatSeconds = try c.decode(.heartbeatSeconds, default: defaults.heartbeatSeconds)
        reaperSeconds = try c.decode(.reaperSeconds, default: defaults.reaperSeconds)
        pollSeconds = try c.decode(.pollSeconds, default: defaults.pollSeconds)
        shutdownGraceSeconds = try c.decode(.shutdownGraceSeconds, default: defaults.shutdownGraceSeconds)
        prefetch = try c.decode(.prefetch, default: defaults.prefetch)
    }
}

package struct SchedulerSettings: Sendable, Decodable, Equatable {
    /// Whether workers run the scheduler loop (safe on every worker: occurrences are deduplicated).
    package var enabled: Bool
    package var tickSeconds: Int
    /// A worker that was down catches up an occurrence at most this old; older ones are recorded as missed.
    package var catchUpSeconds: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, tickSeconds = "tick_seconds", catchUpSeconds = "catch_up_seconds"
    }

    package init(enabled: Bool = true, tickSeconds: Int = 30, catchUpSeconds: Int = 6 * 3600) {
        self.enabled = enabled
        self.tickSeconds = tickSeconds
        self.catchUpSeconds = catchUpSeconds
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = SchedulerSettings()
        enabled = try c.decode(.enabled, default: defaults.enabled)
        tickSeconds = try c.decode(.tickSeconds, default: defaults.tickSeconds)
        catchUpSeconds = try c.decode(.catchUpSeconds, default: defaults.catchUpSeconds)
    }
}

/// An application database jobs act on.
package struct TargetDatabase: Sendable, Decodable, Equatable {
    /// Database name on the orchestrator's server (same host and credentials).
    package var dbname: String
    /// Optional environment variable with a full URL, when the database lives elsewhere.
    package var urlEnv: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case dbname, urlEnv = "url_env"
    }

    package init(dbname: String, urlEnv: String? = nil) {
        self.dbname = dbname
        self.urlEnv = urlEnv
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dbname = try c.decode(String.self, forKey: .dbname)
        urlEnv = try c.decodeIfPresent(String.self, forKey: .urlEnv)
    }
}

/// SQL an operator wrote in the config, run by the `sql` kind under a name.
package struct NamedStatement: Sendable, Decodable, Equatable {
    /// A key of `databases`.
    package var database: String
    package var sql: String
    package var timeoutSeconds: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case database, sql, timeoutSeconds = "timeout_seconds"
    }

    package init(database: String, sql: String, timeoutSeconds: Int? = nil) {
        self.database = database
        self.sql = sql
        self.timeoutSeconds = timeoutSeconds
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        database = try c.decode(String.self, forKey: .database)
        sql = try c.decode(String.self, forKey: .sql)
        timeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .timeoutSeconds)
    }
}

package struct ScheduleDefinition: Sendable, Decodable, Equatable {
    package var name: String
    /// Five-field cron expression or a macro (`@daily`), evaluated in `timeZone`.
    package var cron: String
    /// IANA zone name; default UTC.
    package var timeZone: String
    package var kind: String
    package var target: String?
    package var args: [String: String]
    package var queue: String?
    package var priority: Int?
    /// Overrides `scheduler.catch_up_seconds` for this schedule.
    package var catchUpSeconds: Int?
    package var enabled: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, cron, timeZone = "time_zone", kind, target, args, queue, priority
        case catchUpSeconds = "catch_up_seconds", enabled
    }

    package init(
        name: String, cron: String, timeZone: String = "UTC", kind: String, target: String? = nil,
        args: [String: String] = [:], queue: String? = nil, priority: Int? = nil, catchUpSeconds: Int? = nil, enabled: Bool = true
    ) {
        self.name = name
        self.cron = cron
        self.timeZone = timeZone
        self.kind = kind
        self.target = target
        self.args = args
        self.queue = queue
        self.priority = priority
        self.catchUpSeconds = catchUpSeconds
        self.enabled = enabled
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        cron = try c.decode(String.self, forKey: .cron)
        timeZone = try c.decode(.timeZone, default: "UTC")
        kind = try c.decode(String.self, forKey: .kind)
        target = try c.decodeIfPresent(ScalarText.self, forKey: .target)?.text
        args = try c.decode(.args, default: [String: ScalarText]()).mapValues(\.text)
        queue = try c.decodeIfPresent(String.self, forKey: .queue)
        priority = try c.decodeIfPresent(Int.self, forKey: .priority)
        catchUpSeconds = try c.decodeIfPresent(Int.self, forKey: .catchUpSeconds)
        enabled = try c.decode(.enabled, default: true)
    }
}

package struct KindSettings: Sendable, Decodable, Equatable {
    package var maxAttempts: Int?
    package var timeoutSeconds: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxAttempts = "max_attempts", timeoutSeconds = "timeout_seconds"
    }

    package init(maxAttempts: Int? = nil, timeoutSeconds: Int? = nil) {
        self.maxAttempts = maxAttempts
        self.timeoutSeconds = timeoutSeconds
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts)
        timeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .timeoutSeconds)
    }
}
