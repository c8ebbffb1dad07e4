import Foundation
import Support

/// `backups:` — where backups go and what each profile contains.
package struct BackupSettings: Sendable, Decodable, Equatable {
    /// Directory holding one subdirectory per profile; must be on a local file system.
    package var repository: String
    /// `pg_dump --jobs`: parallel dump (and restore) of one database. Defaults to 1 on hosts
    /// with 2 cores or fewer (`defaultParallelJobs`), 2 otherwise.
    package var parallelJobs: Int
    /// Priority of the backup's tools (pg_dump, pg_dumpall, verification's pg_restore, archive
    /// children): `low` (default) runs them niced with a low I/O priority.
    package var priority: ProcessPriority
    package var profiles: [String: BackupProfile]
    /// `status` warns when a profile's newest verified backup is older than this.
    package var warnAfterHours: Int
    /// `status` warns when a profile's newest passed restore drill is older than this.
    package var drillWarnAfterDays: Int
    /// Point-in-time drills restore a whole cluster here (one directory per drill, removed
    /// after). Every directory above it must be enterable by `drill_run_as`.
    package var drillDirectory: String
    /// When the worker runs as root: the user restored servers run as (PostgreSQL refuses root).
    package var drillRunAs: String
    /// The age identity file (`orchestrator keys generate`) that decrypts encrypted copies for
    /// restores and drills from a repository; only the hosts that restore need it.
    package var identityFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case repository, parallelJobs = "parallel_jobs", priority, profiles
        case warnAfterHours = "warn_after_hours", drillWarnAfterDays = "drill_warn_after_days"
        case drillDirectory = "drill_directory", drillRunAs = "drill_run_as", identityFile = "identity_file"
    }

    package init(
        repository: String = "/var/backups/orchestrator", parallelJobs: Int = BackupSettings.defaultParallelJobs(),
        priority: ProcessPriority = .low, profiles: [String: BackupProfile] = [:], warnAfterHours: Int = 36, drillWarnAfterDays: Int = 35,
        drillDirectory: String = "/var/tmp/orchestrator-drills", drillRunAs: String = "postgres", identityFile: String? = nil
    ) {
        self.identityFile = identityFile
        self.drillDirectory = drillDirectory
        self.drillRunAs = drillRunAs
        self.repository = repository
        self.parallelJobs = parallelJobs
        self.priority = priority
        self.profiles = profiles
        self.warnAfterHours = warnAfterHours
        self.drillWarnAfterDays = drillWarnAfterDays
    }

    /// One dump worker where there are 2 cores or fewer: a second one beside the application
    /// takes the core it needs (measured: docs/benchmarks.md, "Backup impact on the application").
    package static func defaultParallelJobs(cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        cores <= 2 ? 1 : 2
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = BackupSettings()
        repository = try c.decode(.repository, default: defaults.repository)
        parallelJobs = try c.decode(.parallelJobs, default: defaults.parallelJobs)
        let priorityName = try c.decode(.priority, default: defaults.priority.rawValue)
        guard let priority = ProcessPriority(rawValue: priorityName) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath + [CodingKeys.priority],
                debugDescription: "must be \(ProcessPriority.allCases.map(\.rawValue).joined(separator: " or ")), got \(priorityName.debugDescription)"
            ))
        }
        self.priority = priority
        profiles = try c.decode(.profiles, default: [:])
        warnAfterHours = try c.decode(.warnAfterHours, default: defaults.warnAfterHours)
        drillWarnAfterDays = try c.decode(.drillWarnAfterDays, default: defaults.drillWarnAfterDays)
        drillDirectory = try c.decode(.drillDirectory, default: defaults.drillDirectory)
        drillRunAs = try c.decode(.drillRunAs, default: defaults.drillRunAs)
        identityFile = try c.decodeIfPresent(String.self, forKey: .identityFile)
    }
}

/// One kind of backup (`daily`, `full`, `system`): databases, file sets, compression, retention.
/// A `physical` profile copies a whole cluster instead, through the connection of `database`.
package struct BackupProfile: Sendable, Decodable, Equatable {
    package var method: BackupMethod
    /// Physical profiles: the key of `databases:` whose server is copied (its role needs REPLICATION).
    package var database: String?
    /// Physical profiles: `pg_basebackup --max-rate` (`20M`, `512k`); nil transfers at full speed.
    package var maxRate: String?
    package var checkpoint: CheckpointMode
    /// Physical profiles: `tar` (nil, the default) or `plain`.
    package var format: BaseBackupFormat?
    /// zstd level (1 is fast and still compresses WAL-heavy data well); nil uses the default of 1.
    package var compressionLevel: Int?
    /// Keys of `databases:` to dump.
    package var databases: [String]
    /// Also dump roles and tablespaces (`pg_dumpall --globals-only`) when databases are dumped.
    package var globals: Bool
    /// Files and directories to archive (absolute paths).
    package var paths: [String]
    /// Patterns left out of the archives (`node_modules`, `*.log`, `logs/archive/*`).
    package var excludes: [String]
    /// zstd (default), gzip or none.
    package var compression: String
    package var retention: RetentionPolicy
    /// Queries a restore drill runs against each restored database; each must succeed and return a row.
    package var smokeQueries: [String]
    /// Keys of `repositories:` each verified backup is copied to (a `copy-backup` job per repository).
    package var copyTo: [String]
    /// age recipients (`age1…`, public keys) every file of a copy is encrypted to before it
    /// leaves the host; empty: copies are sent as they are.
    package var encryptTo: [String]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case databases, globals, paths, excludes, compression, retention, smokeQueries = "smoke_queries"
        case method, database, maxRate = "max_rate", checkpoint, compressionLevel = "compression_level", format
        case copyTo = "copy_to", encryptTo = "encrypt_to"
    }

    package init(
        databases: [String] = [], globals: Bool = true, paths: [String] = [], excludes: [String] = [],
        compression: String = "zstd", retention: RetentionPolicy = RetentionPolicy(), smokeQueries: [String] = [],
        method: BackupMethod = .logical, database: String? = nil, maxRate: String? = nil, checkpoint: CheckpointMode = .spread,
        compressionLevel: Int? = nil, format: BaseBackupFormat? = nil, copyTo: [String] = [], encryptTo: [String] = []
    ) {
        self.copyTo = copyTo
        self.encryptTo = encryptTo
        self.method = method
        self.format = format
        self.database = database
        self.maxRate = maxRate
        self.checkpoint = checkpoint
        self.compressionLevel = compressionLevel
        self.smokeQueries = smokeQueries
        self.databases = databases
        self.globals = globals
        self.paths = paths
        self.excludes = excludes
        self.compression = compression
        self.retention = retention
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        databases = try c.decode(.databases, default: [])
        globals = try c.decode(.globals, default: true)
        paths = try c.decode(.paths, default: [])
        excludes = try c.decode(.excludes, default: [])
        compression = try c.decode(.compression, default: "zstd")
        retention = try c.decode(.retention, default: RetentionPolicy())
        smokeQueries = try c.decode(.smokeQueries, default: [])
        method = try c.decode(.method, default: .logical)
        database = try c.decodeIfPresent(String.self, forKey: .database)
        maxRate = try c.decodeIfPresent(ScalarText.self, forKey: .maxRate)?.text
        checkpoint = try c.decode(.checkpoint, default: .spread)
        compressionLevel = try c.decodeIfPresent(Int.self, forKey: .compressionLevel)
        format = try c.decodeIfPresent(BaseBackupFormat.self, forKey: .format)
        copyTo = try c.decode(.copyTo, default: [])
        encryptTo = try c.decode(.encryptTo, default: [])
    }
}

/// Which backups of a profile are kept. A backup is deleted only when no rule keeps it, and never
/// below `min_keep` backups or the newest verified one.
package struct RetentionPolicy: Sendable, Decodable, Equatable {
    package var keepLast: Int
    package var keepDays: Int
    /// Grandfather-father-son tiers: the newest backup of each of the last N days / weeks / months.
    package var daily: Int
    package var weekly: Int
    package var monthly: Int
    package var minKeep: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case keepLast = "keep_last", keepDays = "keep_days", daily, weekly, monthly, minKeep = "min_keep"
    }

    package init(keepLast: Int = 7, keepDays: Int = 0, daily: Int = 0, weekly: Int = 0, monthly: Int = 0, minKeep: Int = 1) {
        self.keepLast = keepLast
        self.keepDays = keepDays
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
        self.minKeep = minKeep
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RetentionPolicy()
        keepLast = try c.decode(.keepLast, default: defaults.keepLast)
        keepDays = try c.decode(.keepDays, default: defaults.keepDays)
        daily = try c.decode(.daily, default: defaults.daily)
        weekly = try c.decode(.weekly, default: defaults.weekly)
        monthly = try c.decode(.monthly, default: defaults.monthly)
        minKeep = try c.decode(.minKeep, default: defaults.minKeep)
    }
}
