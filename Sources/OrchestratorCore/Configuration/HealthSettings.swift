/// `health:`: what the `health` kind and `orchestrator health` sample, and how long the history
/// is kept. Metric names are listed in README.md ("Health metrics"); thresholds come elsewhere.
public struct HealthSettings: Sendable, Decodable, Equatable {
    /// Paths whose file systems are measured (`disk.*`, subject = the path).
    public var mounts: [String]
    /// Keys of `databases:` to sample; nil samples every configured database.
    public var databases: [String]?
    /// systemd units expected to be active (`systemctl is-active`).
    public var systemdUnits: [String]
    /// TCP ports that must accept a connection, by check name.
    public var tcp: [String: TCPCheck]
    /// HTTP endpoints, by check name.
    public var http: [String: HTTPCheck]
    /// Custom SQL returning one number, by check name (SQL lives here only).
    public var sql: [String: SQLCheck]
    /// Tables with the most dead tuples recorded per database.
    public var deadTuplesTop: Int
    /// Largest tables whose size and last (auto)vacuum are recorded per database.
    public var biggestTables: Int
    /// `statement_timeout` of every sampling query.
    public var statementTimeoutMs: Int
    /// CPU usage is measured between two /proc/stat readings at least this far apart.
    public var cpuIntervalMs: Int
    /// Raw samples older than this many days are rolled up into `health_daily`, then deleted.
    public var keepRawDays: Int
    public var keepDailyDays: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mounts, databases, systemdUnits = "systemd_units", tcp, http, sql
        case deadTuplesTop = "dead_tuples_top", biggestTables = "biggest_tables"
        case statementTimeoutMs = "statement_timeout_ms", cpuIntervalMs = "cpu_interval_ms"
        case keepRawDays = "keep_raw_days", keepDailyDays = "keep_daily_days"
    }

    public init(
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

    public init(from decoder: any Decoder) throws {
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
    public func sampledDatabases(in configuration: Configuration) -> [String] {
        (databases ?? Array(configuration.databases.keys)).sorted()
    }
}

/// `health.tcp.NAME`: a port that must accept a TCP connection within the timeout.
public struct TCPCheck: Sendable, Decodable, Equatable {
    public var host: String
    public var port: Int
    public var timeoutMs: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, timeoutMs = "timeout_ms"
    }

    public init(host: String, port: Int, timeoutMs: Int = 2000) {
        self.host = host
        self.port = port
        self.timeoutMs = timeoutMs
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decode(String.self, forKey: .host)
        port = try c.decode(Int.self, forKey: .port)
        timeoutMs = try c.decode(.timeoutMs, default: 2000)
    }
}

/// `health.http.NAME`: an endpoint that must answer with the expected status within the timeout.
public struct HTTPCheck: Sendable, Decodable, Equatable {
    public var url: String
    public var expectStatus: Int
    public var timeoutMs: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, expectStatus = "expect_status", timeoutMs = "timeout_ms"
    }

    public init(url: String, expectStatus: Int = 200, timeoutMs: Int = 5000) {
        self.url = url
        self.expectStatus = expectStatus
        self.timeoutMs = timeoutMs
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        expectStatus = try c.decode(.expectStatus, default: 200)
        timeoutMs = try c.decode(.timeoutMs, default: 5000)
    }
}

/// `health.sql.NAME`: a query written by the operator that returns one number (one row, one
/// column), run read-only, e.g. "trades in the last 24 h".
public struct SQLCheck: Sendable, Decodable, Equatable {
    /// A key of `databases:`.
    public var database: String
    public var sql: String
    /// Stored with the value (`rows`, `seconds`, ...).
    public var unit: String?
    public var timeoutSeconds: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case database, sql, unit, timeoutSeconds = "timeout_seconds"
    }

    public init(database: String, sql: String, unit: String? = nil, timeoutSeconds: Int = 5) {
        self.database = database
        self.sql = sql
        self.unit = unit
        self.timeoutSeconds = timeoutSeconds
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        database = try c.decode(String.self, forKey: .database)
        sql = try c.decode(String.self, forKey: .sql)
        unit = try c.decodeIfPresent(String.self, forKey: .unit)
        timeoutSeconds = try c.decode(.timeoutSeconds, default: 5)
    }
}
