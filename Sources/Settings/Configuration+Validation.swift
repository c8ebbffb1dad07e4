import Cron
import Foundation
import PostgresClient

extension Configuration {
    /// Everything this module can check without a database: ranges, references between
    /// sections, cron expressions and time zones. What needs the job kinds (the `kinds:`
    /// overrides, each scheduled job as if enqueued now) is a `ConfigurationJobChecker`'s part.
    package func validate() -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func check(_ condition: Bool, _ path: String, _ message: String) {
            if !condition { problems.append(ConfigurationError(path: path, message)) }
        }

        check(isEnvironmentName(database.urlEnv), "database.url_env", "\(database.urlEnv.debugDescription) is not an environment variable name")

        check((1...64).contains(worker.concurrency), "worker.concurrency", "must be 1...64, got \(worker.concurrency)")
        check(!worker.queues.isEmpty, "worker.queues", "must name at least one queue")
        for (index, queue) in worker.queues.enumerated() {
            check(QueueName.isValid(queue), "worker.queues[\(index)]", "\(queue.debugDescription) is not a valid queue name")
        }
        check(worker.leaseSeconds >= 5, "worker.lease_seconds", "must be at least 5, got \(worker.leaseSeconds)")
        check(worker.heartbeatSeconds >= 1 && worker.heartbeatSeconds * 2 <= worker.leaseSeconds,
              "worker.heartbeat_seconds", "must be at least 1 and at most half of lease_seconds (\(worker.leaseSeconds)), got \(worker.heartbeatSeconds)")
        check(worker.reaperSeconds >= 1, "worker.reaper_seconds", "must be at least 1, got \(worker.reaperSeconds)")
        check(worker.pollSeconds >= 1, "worker.poll_seconds", "must be at least 1, got \(worker.pollSeconds)")
        check(worker.shutdownGraceSeconds >= 0, "worker.shutdown_grace_seconds", "must not be negative")
        check((0...1000).contains(worker.prefetch), "worker.prefetch", "must be 0...1000, got \(worker.prefetch)")

        check((1...3600).contains(scheduler.tickSeconds), "scheduler.tick_seconds", "must be 1...3600, got \(scheduler.tickSeconds)")
        check(scheduler.catchUpSeconds >= 0, "scheduler.catch_up_seconds", "must not be negative")

        for (name, target) in databases.sorted(by: { $0.key < $1.key }) {
            check(isConfigName(name), "databases.\(name)", "name must be lower-case letters, digits, _ or -")
            check(!target.dbname.isEmpty && target.dbname.utf8.count <= 63 && !target.dbname.utf8.contains(0),
                  "databases.\(name).dbname", "must be a database name of 1 to 63 bytes")
            if let variable = target.urlEnv {
                check(isEnvironmentName(variable), "databases.\(name).url_env", "\(variable.debugDescription) is not an environment variable name")
            }
        }
        for (name, statement) in statements.sorted(by: { $0.key < $1.key }) {
            check(isConfigName(name), "statements.\(name)", "name must be lower-case letters, digits, _ or -")
            check(databases[statement.database] != nil, "statements.\(name).database",
                  "\(statement.database.debugDescription) is not under databases: (configured: \(databases.keys.sorted().joined(separator: ", ")))")
            check(!statement.sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "statements.\(name).sql", "must not be empty")
            if let timeout = statement.timeoutSeconds { check(timeout > 0, "statements.\(name).timeout_seconds", "must be positive") }
        }
        for (name, settings) in kinds.sorted(by: { $0.key < $1.key }) {
            if let attempts = settings.maxAttempts { check((1...100).contains(attempts), "kinds.\(name).max_attempts", "must be 1...100") }
            if let timeout = settings.timeoutSeconds { check(timeout > 0, "kinds.\(name).timeout_seconds", "must be positive") }
        }

        problems += validateBackups()
        problems += validateAlerts()
        problems += validateAlertRules()
        problems += validateHealth()
        problems += validateHistory()
        problems += validateWeb()
        problems += validateRepositories()
        problems += walStream?.problems(databases: databases, repository: walArchive?.repository) ?? []
        for (name, policy) in retention.sorted(by: { $0.key < $1.key }) {
            let path = "retention.\(name)"
            check(isConfigName(name), path, "name must be lower-case letters, digits, _ or -")
            check(databases[policy.database] != nil, "\(path).database",
                  "\(policy.database.debugDescription) is not under databases: (configured: \(databases.keys.sorted().joined(separator: ", ")))")
            check(policy.keepDays >= 1, "\(path).keep_days", "must be at least 1, got \(policy.keepDays)")
            check((1...1_000_000).contains(policy.batchSize), "\(path).batch_size", "must be 1...1000000")
            check((1...60_000).contains(policy.targetBatchMs), "\(path).target_batch_ms", "must be 1...60000")
            check((0...60_000).contains(policy.sleepMs), "\(path).sleep_ms", "must be 0...60000")
            check(!policy.table.isEmpty && policy.table.utf8.count <= 127, "\(path).table", "must name a table")
            check(!policy.column.isEmpty && policy.column.utf8.count <= 63, "\(path).column", "must name a column")
        }
        for (name, policy) in fileRetention.sorted(by: { $0.key < $1.key }) {
            let path = "file_retention.\(name)"
            check(isConfigName(name), path, "name must be lower-case letters, digits, _ or -")
            check(policy.directory.hasPrefix("/") && policy.directory != "/" && !policy.directory.split(separator: "/").contains(".."),
                  "\(path).directory", "must be an absolute directory other than / and without '..', got \(policy.directory.debugDescription)")
            check(!policy.patterns.isEmpty && policy.patterns.allSatisfy { !$0.isEmpty && !$0.contains("/") },
                  "\(path).patterns", "must list file name patterns (no '/'), e.g. [\"*.log\"]")
            check(policy.olderThanDays >= 1, "\(path).older_than_days", "must be at least 1, got \(policy.olderThanDays)")
        }

        var seen: Set<String> = []
        for (index, schedule) in schedules.enumerated() {
            let path = "schedules[\(index)]"
            check(isConfigName(schedule.name), "\(path).name", "\(schedule.name.debugDescription) must be lower-case letters, digits, _ or -")
            check(seen.insert(schedule.name).inserted, "\(path).name", "duplicate schedule name \(schedule.name.debugDescription)")
            do {
                _ = try CronExpression(schedule.cron)
            } catch {
                problems.append(ConfigurationError(path: "\(path).cron", "\(error)"))
            }
            check(TimeZone(identifier: schedule.timeZone) != nil, "\(path).time_zone", "unknown time zone \(schedule.timeZone.debugDescription) (use an IANA name such as Europe/Berlin)")
            if let catchUp = schedule.catchUpSeconds { check(catchUp >= 0, "\(path).catch_up_seconds", "must not be negative") }
        }
        if let walArchive { problems += walArchive.validate() }
        return problems
    }

    private func validateBackups() -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func check(_ condition: Bool, _ path: String, _ message: String) {
            if !condition { problems.append(ConfigurationError(path: path, message)) }
        }
        check(backups.repository.hasPrefix("/"), "backups.repository", "must be an absolute path, got \(backups.repository.debugDescription)")
        check(backups.drillDirectory.hasPrefix("/") && backups.drillDirectory.utf8.count <= 60, "backups.drill_directory",
              "must be an absolute path of at most 60 bytes (a restored server's socket lives under it), got \(backups.drillDirectory.debugDescription)")
        check((1...32).contains(backups.parallelJobs), "backups.parallel_jobs", "must be 1...32, got \(backups.parallelJobs)")
        for (name, profile) in backups.profiles.sorted(by: { $0.key < $1.key }) {
            let path = "backups.profiles.\(name)"
            check(isConfigName(name), path, "name must be lower-case letters, digits, _ or -")
            check(name != "wal", path, "\"wal\" is reserved: the WAL archive keeps its segments under <repository>/wal")
            if profile.method == .physical {
                problems += validatePhysical(profile, at: path)
                continue
            }
            check(profile.database == nil && profile.maxRate == nil && profile.compressionLevel == nil && profile.format == nil, path,
                  "database, max_rate, compression_level and format are for physical profiles (method: physical); a logical profile lists databases:")
            check(!profile.databases.isEmpty || !profile.paths.isEmpty, path, "names neither databases nor paths; nothing to back up")
            for (index, database) in profile.databases.enumerated() {
                check(databases[database] != nil, "\(path).databases[\(index)]",
                      "\(database.debugDescription) is not under databases: (configured: \(databases.keys.sorted().joined(separator: ", ")))")
            }
            for (index, file) in profile.paths.enumerated() {
                check(file.hasPrefix("/") && !file.split(separator: "/").contains(".."), "\(path).paths[\(index)]",
                      "must be an absolute path without '..', got \(file.debugDescription)")
            }
            check(["zstd", "gzip", "none"].contains(profile.compression), "\(path).compression",
                  "\(profile.compression.debugDescription) is not one of zstd, gzip, none")
            problems += Self.retentionProblems(profile.retention, at: "\(path).retention", kept: "backup")
        }
        return problems
    }

    /// A retention policy's counts are not negative and it keeps at least one (`kept`: what it keeps).
    static func retentionProblems(_ retention: RetentionPolicy, at path: String, kept: String) -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        for (key, value) in [("keep_last", retention.keepLast), ("keep_days", retention.keepDays), ("daily", retention.daily),
                             ("weekly", retention.weekly), ("monthly", retention.monthly)] where value < 0 {
            problems.append(ConfigurationError(path: "\(path).\(key)", "must not be negative"))
        }
        if retention.minKeep < 1 {
            problems.append(ConfigurationError(path: "\(path).min_keep", "must be at least 1 (the newest \(kept) is always kept)"))
        }
        return problems
    }

    /// A physical profile copies one server: it names that server's database key and nothing a
    /// logical profile would dump or archive.
    private func validatePhysical(_ profile: BackupProfile, at path: String) -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func check(_ condition: Bool, _ key: String, _ message: String) {
            if !condition { problems.append(ConfigurationError(path: key, message)) }
        }
        if let database = profile.database {
            check(databases[database] != nil, "\(path).database",
                  "\(database.debugDescription) is not under databases: (configured: \(databases.keys.sorted().joined(separator: ", ")))")
        } else {
            check(false, "\(path).database", "a physical profile needs the key of the databases: entry whose server it copies")
        }
        check(profile.databases.isEmpty && profile.paths.isEmpty && profile.excludes.isEmpty, path,
              "a physical profile copies the whole cluster; databases, paths and excludes belong to logical profiles")
        check(["zstd", "gzip", "lz4", "none"].contains(profile.compression), "\(path).compression",
              "\(profile.compression.debugDescription) is not one of zstd, gzip, lz4, none")
        if let level = profile.compressionLevel {
            check((1...19).contains(level), "\(path).compression_level", "must be 1...19, got \(level)")
        }
        if profile.format == .plain {
            check(profile.compressionLevel == nil && ["zstd", "none"].contains(profile.compression), "\(path).format",
                  "a plain backup is stored uncompressed; remove compression and compression_level, or use format: tar")
        }
        if let rate = profile.maxRate {
            check(Self.isTransferRate(rate), "\(path).max_rate",
                  "\(rate.debugDescription) is not a rate pg_basebackup accepts: kB/s as a number (32...1048576), or with k or M (\"20M\", \"512k\")")
        }
        problems += Self.retentionProblems(profile.retention, at: "\(path).retention", kept: "backup")
        return problems
    }

    /// `pg_basebackup --max-rate`: 32 kB/s to 1024 MB/s, in kB/s or with a `k`/`M` suffix.
    static func isTransferRate(_ text: String) -> Bool {
        var digits = Substring(text)
        var scale = 1
        if digits.hasSuffix("k") { digits = digits.dropLast() } else if digits.hasSuffix("M") { digits = digits.dropLast(); scale = 1024 }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int(digits) else { return false }
        return (32...1_048_576).contains(value * scale)
    }

    func isConfigName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 63, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }

    func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
    }
}
