import BlockingWork
import CLibPQ

/// Where and how to connect: a `postgresql://` URL or a `key=value` conninfo string, plus
/// keyword overrides (for example another `dbname` on the same server).
///
/// An empty connection string means "libpq defaults": the `PG*` environment variables and
/// `~/.pgpass` decide, exactly as for `psql`.
public struct ConnectionConfiguration: Sendable, CustomStringConvertible {
    public var connectionString: String
    /// Keywords applied after the connection string; later keywords win in libpq.
    public var overrides: [(keyword: String, value: String)]
    public var applicationName: String
    /// The lane of `executor` this connection's libpq calls run in: `.control` only for a
    /// worker's own connections (see `BlockingExecutor`), which that lane's bound counts on.
    public var lane: BlockingExecutor.Lane
    /// The threads for those calls; tests give a worker a small executor of its own.
    public var executor: BlockingExecutor

    public init(
        connectionString: String, overrides: [(keyword: String, value: String)] = [], applicationName: String = "orchestrator",
        lane: BlockingExecutor.Lane = .jobs, executor: BlockingExecutor = .shared
    ) {
        self.connectionString = connectionString
        self.overrides = overrides
        self.applicationName = applicationName
        self.lane = lane
        self.executor = executor
    }

    /// The same server and credentials, another database.
    public func withDatabase(_ name: String) -> ConnectionConfiguration {
        var copy = self
        copy.overrides.removeAll { $0.keyword == "dbname" }
        copy.overrides.append((keyword: "dbname", value: name))
        return copy
    }

    /// The effective parameters libpq would use, with the password removed. Suitable for logs.
    public var redactedParameters: [String: String] {
        var result = parameters
        result.removeValue(forKey: "password")
        return result
    }

    /// Environment variables that make `pg_dump`, `pg_restore` and `psql` connect exactly like
    /// this configuration, so no password ever appears on a command line (visible in `ps`).
    /// Variables for unset keywords are set to empty so an inherited `PG*` value cannot leak in,
    /// except where libpq's own defaults should still apply.
    public var toolEnvironment: [String: String] {
        let mapping = [
            "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE", "user": "PGUSER",
            "password": "PGPASSWORD", "passfile": "PGPASSFILE", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
            "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT", "options": "PGOPTIONS",
            "target_session_attrs": "PGTARGETSESSIONATTRS",
        ]
        var environment: [String: String] = ["PGAPPNAME": applicationName]
        for (keyword, value) in parameters {
            if let variable = mapping[keyword] { environment[variable] = value }
        }
        return environment
    }

    /// Every keyword with a value, password included; never log this.
    var parameters: [String: String] {
        var result: [String: String] = [:]
        if !connectionString.isEmpty {
            var errorMessage: UnsafeMutablePointer<CChar>?
            if let options = PQconninfoParse(connectionString, &errorMessage) {
                var cursor = options
                while let keyword = cursor.pointee.keyword {
                    if let value = cursor.pointee.val {
                        result[String(cString: keyword)] = String(cString: value)
                    }
                    cursor += 1
                }
                PQconninfoFree(options)
            }
            if let errorMessage { PQfreemem(errorMessage) }
        }
        for (keyword, value) in overrides { result[keyword] = value }
        return result
    }

    /// `host:port/dbname user=...` without any secret.
    public var description: String {
        let parameters = redactedParameters
        let host = parameters["host"] ?? "(default host)"
        let port = parameters["port"].map { ":\($0)" } ?? ""
        let database = parameters["dbname"] ?? "(default database)"
        let user = parameters["user"].map { " user=\($0)" } ?? ""
        return "\(host)\(port)/\(database)\(user)"
    }

    /// Checks the string parses as a URL or conninfo, without connecting.
    public func validate() throws(PostgresError) {
        guard !connectionString.isEmpty else { return }
        var errorMessage: UnsafeMutablePointer<CChar>?
        let options = PQconninfoParse(connectionString, &errorMessage)
        defer {
            if let options { PQconninfoFree(options) }
            if let errorMessage { PQfreemem(errorMessage) }
        }
        if options == nil {
            // libpq's parse message can quote fragments of the string, password included; keep it out.
            throw PostgresError(
                code: .connectionFailed,
                message: "invalid connection string: expected a postgresql:// URL or key=value pairs",
                hint: "see https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING"
            )
        }
    }
}
