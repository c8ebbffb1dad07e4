/// `health:`: what the `health` kind and `orchestrator health` sample, and how long the history
/// is kept. Metric names are listed in README.md ("Health metrics"); thresholds come elsewhere.
package struct HealthSettings: Sendable, Decodable, Equatable {
    /// Paths whose file systems are measured (`disk.*`, subject = the path).
    package var mounts: [String]
    /// Keys of `databases:` to sample; nil samples every configured database.
    package var databases: [String]?
    /// systemd units expected to be active (`systemctl is-active`).
    package var systemdUnits: [String]
    /// TCP ports that must accept a connection, by check name.
    package var tcp: [String: TCPCheck]
    /// HTTP endpoints, by check name.
    package var http: [String: HTTPCheck]
    /// Custom SQL returning one number, by check name (SQL lives here only).
    package var sql: [String: SQLCheck]
    /// Tables with the most dead tuples recorded per database.
    package var deadTuplesTop: Int
    /// Largest tables whose size and last (auto)vacuum are recorded per database.
    package var biggestTables: Int
    /// `statement_timeout` of every sampling query.
    package var statementTimeoutMs: Int
    /// CPU usage is measured between two /proc/stat readings at least this far apart.
    package var cpuIntervalMs: Int
    /// Raw samples older than this many days are rolled up into `health_daily`, then deleted.
    package var keepRawDays: Int
    package var keepDailyDays: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mounts, databases, systemdUnits = "systemd_units", tcp, http, sql
        case deadTuplesTop = "dead_tuples_top", biggestTables = "biggest_tables"
        case statementTimeoutMs = "statement_timeout_ms", cpuIntervalMs = "cpu_interval_ms"
        case keepRawDays = "keep_raw_days", keepDailyDays = "keep_daily_days"
    }

    package init(
        mounts: [String] = ["/"], databases: [String]? = nil, systemdUnits: [String] = [], tcp: [String: TCPCheck] = [:],
        http: [String: HTTPCheck] = [:], sql: [String: SQLCheck] = [:], deadTuplesTop: Int = 5, biggestTables: Int = 5,
        statementTimeoutMs: Int = 2000, cpuIntervalMs: Int = 1000, keepRawDays: Int = 14, keepDailyDays: Int = 400
    ) {
        self.mounts = mounts
        self.databases = databases
        self.systemdUnits = systemdUnits
        self.tcp = tcp
        self.http = http
        self.sql = sql
        self.deadTuplesTop = deadTuplesTop
        self.biggestTables = biggestTables
        self.statementTimeoutMs = statementTimeoutMs
        self.cpuIntervalMs = cpuIntervalMs
        self.keepRawDays = keepRawDays
        self.keepDailyDays = keepDailyDays
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = HealthSettings()
        mounts = try c.decode(.mounts, default: defaults.mounts)
        databases = try c.decodeIfPresent([String].self, forKey: .databases)
        systemdUnits = try c.decode(.systemdUnits, default: [])
        tcp = try c.decode(.tcp, default: [:])
        http = try c.decode(.http, default: [:])
        sql = try c.decode(.sql, default: [:])
        deadTuplesTop = try c.decode(.deadTuplesTop, default: defaults.deadTuplesTop)
        biggestTables = try c.decode(.biggestTables, default: defaults.biggestTables)
        statementTimeoutMs = try c.decode(.statementTimeoutMs, default: defaults.statementTimeoutMs)
        cpuIntervalMs = try c.decode(.cpuIntervalMs, default: defaults.cpuIntervalMs)
        keepRawDays = try c.decode(.keepRawDays, default: defaults.keepRawDays)
        keepDailyDays = try c.decode(.keepDailyDays, default: defaults.keepDailyDays)
    }

    /// The `databases:` keys to sample, sorted.
    package func sampledDatabases(in configuration: Configuration) -> [String] {
        (databases ?? Array(configuration.databases.keys)).sorted()
    }
}

/// `health.tcp.NAME`: a port that must accept a TCP connection within the timeout.
package struct TCPCheck: Sendable, Decodable, Equatable {
    package var host: String
    package var port: Int
    package var timeoutMs: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, timeoutMs = "timeout_ms"
    }

    package init(host: String, port: Int, timeoutMs: Int = 2000) {
        self.host = host
        self.port = port
        self.timeoutMs = timeoutMs
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decode(String.self, forKey: .host)
        port = try c.decode(Int.self, forKey: .port)
        timeoutMs = try c.decode(.timeoutMs, default: 2000)
    }
}

/// `health.http.NAME`: an endpoint that must answer with the expected status within the timeout.
package struct HTTPCheck: Sendable, Decodable, Equatable {
    package var url: String
    package var expectStatus: Int
    package var timeoutMs: Int
    /// PEM file of the certificate authorities to trust for this URL instead of the system's
    /// (a service behind an internal CA); the certificate is still verified.
    package var caFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, expectStatus = "expect_status", timeoutMs = "timeout_ms", caFile = "ca_file"
    }

    package init(url: String, expectStatus: Int = 200, timeoutMs: Int = 5000, caFile: String? = nil) {
        self.url = url
        self.expectStatus = expectStatus
        self.timeoutMs = timeoutMs
        self.caFile = caFile
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        expectStatus = try c.decode(.expectStatus, default: 200)
        timeoutMs = try c.decode(.timeoutMs, default: 5000)
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
    }
}

/// `health.sql.NAME`: a query written by the operator that returns one number (one row, one
/// column), run read-only, e.g. "trades in the last 24 h".
package struct SQLCheck: Sendable, Decodable, Equatable {
    /// A key of `databases:`.
    package var database: String
    package var sql: String
    /// Stored with the value (`rows`, `seconds`, ...).
    package var unit: String?
    package var timeoutSeconds: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case database, sql, unit, timeoutSeconds = "timeout_seconds"
    }

    package init(database: String, sql: String, unit: String? = nil, timeoutSeconds: Int = 5) {
        self.database = database
        self.sql = sql
        self.unit = unit
        self.timeoutSeconds = timeoutSeconds
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        database = try c.decode(String.self, forKey: .database)
        sql = try c.decode(String.self, forKey: .sql)
        unit = try c.decodeIfPresent(String.self, forKey: .unit)
        timeoutSeconds = try c.decode(.timeoutSeconds, default: 5)
    }
}
