import Foundation
import PostgresClient
import Settings
import Support

/// Samples one application database in three cheap catalog queries (database statistics,
/// sessions, tables). Server-wide figures are in `PostgresSampler+Server.swift`.
struct PostgresSampler: Sendable {
    let settings: HealthSettings

    /// The previous stored `pg.xact_total` of a database, for transactions per second.
    struct Counter: Sendable, Equatable {
        let value: Double
        let takenAt: Date
    }

    /// XIDs until wraparound, for `pg.xid_wraparound_percent`.
    static let wraparoundXIDs = 2_147_483_648.0

    /// Two queries: the database's statistics with its sessions, then its tables. Each stands
    /// alone: one that fails (a timeout on a huge catalog) costs only its own samples, and its
    /// error is returned. Few round trips keep the sample cheap on a busy host.
    func sampleDatabase(_ key: String, on connection: PostgresConnection, previous: Counter?, takenAt: Date) async -> (samples: [HealthSample], errors: [String]) {
        var samples: [HealthSample] = []
        var errors: [String] = []
        do {
            if let row = try await connection.query(Self.databaseSQL).first {
                samples += try databaseStatistics(key, row, previous: previous, takenAt: takenAt)
                samples += try sessions(key, row)
            } else {
                errors.append("current database not found in pg_stat_database")
            }
        } catch {
            errors.append("database statistics: \(error)")
        }
        do { samples += try await tables(key, on: connection) } catch { errors.append("tables: \(error)") }
        return (samples, errors)
    }

    /// Client sessions of this database other than ours, with what the samples need of them.
    static let databaseSQL = """
        WITH a AS (
            SELECT pid, usename, application_name, state, wait_event_type, wait_event, query,
                   extract(epoch FROM now() - xact_start)::float8 AS xact_seconds,
                   CASE WHEN state = 'active' THEN extract(epoch FROM now() - query_start)::float8 END AS query_seconds,
                   CASE WHEN state LIKE 'idle in transaction%' THEN extract(epoch FROM now() - state_change)::float8 END AS idle_seconds
            FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        )
        SELECT pg_database_size(d.oid) AS size_bytes, age(d.datfrozenxid) AS xid_age, s.numbackends,
               (s.xact_commit + s.xact_rollback)::float8 AS xact_total,
               CASE WHEN s.blks_hit + s.blks_read > 0 THEN s.blks_hit * 100.0 / (s.blks_hit + s.blks_read) END::float8 AS cache_hit_percent,
               s.deadlocks,
               (SELECT json_build_object('table', n.nspname || '.' || c.relname, 'age', age(c.relfrozenxid))::text
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'm', 't') ORDER BY age(c.relfrozenxid) DESC LIMIT 1) AS oldest_table,
               (SELECT count(*) FROM a WHERE idle_seconds IS NOT NULL) AS idle_in_transaction,
               (SELECT coalesce(max(idle_seconds), 0) FROM a) AS idle_longest,
               (SELECT count(*) FROM a WHERE wait_event_type = 'Lock') AS locks_waiting,
               (SELECT row_to_json(t)::text FROM (SELECT pid, usename, application_name, state, xact_seconds AS seconds, query
                  FROM a WHERE xact_seconds IS NOT NULL ORDER BY xact_seconds DESC LIMIT 1) t) AS longest_transaction,
               (SELECT row_to_json(t)::text FROM (SELECT pid, usename, application_name, wait_event_type, wait_event, query_seconds AS seconds, query
                  FROM a WHERE query_seconds IS NOT NULL ORDER BY query_seconds DESC LIMIT 1) t) AS longest_query,
               current_user AS role, pg_has_role('pg_read_all_stats', 'USAGE') AS reads_all_stats,
               (SELECT count(*) FROM pg_stat_activity h
                 WHERE h.datname = current_database() AND h.pid <> pg_backend_pid() AND h.usesysid IS NOT NULL
                   AND NOT pg_has_role('pg_read_all_stats', 'USAGE') AND NOT pg_has_role(h.usesysid, 'USAGE')) AS hidden_sessions
        FROM pg_database d JOIN pg_stat_database s ON s.datid = d.oid
        WHERE d.datname = current_database()
        """

    private func databaseStatistics(_ key: String, _ row: PostgresRow, previous: Counter?, takenAt: Date) throws -> [HealthSample] {
        let xidAge: Double = try row.decode("xid_age")
        let xactTotal: Double = try row.decode("xact_total")
        var samples = [
            HealthSample(.postgres, key, "pg.size_bytes", value: try row.decode("size_bytes"), unit: "bytes"),
            HealthSample(.postgres, key, "pg.connections", value: try row.decode("numbackends"), unit: "count"),
            HealthSample(.postgres, key, "pg.xid_age", value: xidAge, unit: "xids"),
            HealthSample(.postgres, key, "pg.xid_wraparound_percent", value: xidAge / Self.wraparoundXIDs * 100, unit: "percent"),
            HealthSample(.postgres, key, "pg.xact_total", value: xactTotal, unit: "count"),
            HealthSample(.postgres, key, "pg.deadlocks_total", value: try row.decode("deadlocks"), unit: "count"),
        ]
        if let hit: Double = try row.decodeIfPresent("cache_hit_percent") {
            samples.append(HealthSample(.postgres, key, "pg.cache_hit_percent", value: hit, unit: "percent"))
        } else {
            samples.append(.failure(.postgres, key, "pg.cache_hit_percent", "no blocks read yet", status: .unknown))
        }
        samples.append(Self.transactionsPerSecond(key, total: xactTotal, takenAt: takenAt, previous: previous))
        if let text: String = try row.decodeIfPresent("oldest_table"), case .object(let oldest) = try JSONValue.parse(text),
           case .int(let age)? = oldest["age"] {
            samples.append(HealthSample(.postgres, key, "pg.oldest_table_xid_age", value: Double(age), unit: "xids",
                                        message: oldest["table"]?.stringValue, details: ["table": oldest["table"] ?? .null]))
        }
        return samples
    }

    /// Transactions per second since the previous stored sample of this database.
    static func transactionsPerSecond(_ key: String, total: Double, takenAt: Date, previous: Counter?) -> HealthSample {
        guard let previous else {
            return .failure(.postgres, key, "pg.tps", "no previous stored sample to compare with", status: .unknown)
        }
        let seconds = takenAt.timeIntervalSince(previous.takenAt)
        guard seconds >= 1 else {
            return .failure(.postgres, key, "pg.tps", "previous sample is less than a second old", status: .unknown)
        }
        guard total >= previous.value else {
            return .failure(.postgres, key, "pg.tps", "statistics were reset since the previous sample", status: .unknown)
        }
        return HealthSample(.postgres, key, "pg.tps", value: (total - previous.value) / seconds, unit: "per_second",
                            details: ["since": .string(previous.takenAt.postgresText), "seconds": .double(seconds)])
    }

    private func sessions(_ key: String, _ row: PostgresRow) throws -> [HealthSample] {
        var samples = [
            HealthSample(.postgres, key, "pg.idle_in_transaction", value: try row.decode("idle_in_transaction"), unit: "count"),
            HealthSample(.postgres, key, "pg.idle_in_transaction_longest_seconds", value: try row.decode("idle_longest"), unit: "seconds"),
            HealthSample(.postgres, key, "pg.locks_waiting", value: try row.decode("locks_waiting"), unit: "count"),
        ]
        samples.append(try Self.longest(key, "pg.longest_transaction_seconds", row.decodeIfPresent("longest_transaction"), none: "no open transaction"))
        samples.append(try Self.longest(key, "pg.longest_query_seconds", row.decodeIfPresent("longest_query"), none: "no running query"))
        samples.append(try Self.hiddenSessions(key, row))
        return samples
    }

    /// Sessions of other roles whose state, transaction and query this role may not see
    /// (without `pg_read_all_stats`): the session figures above leave them out, so a long
    /// transaction of another application would go unnoticed. Failed while any is hidden.
    private static func hiddenSessions(_ key: String, _ row: PostgresRow) throws -> HealthSample {
        let hidden: Double = try row.decode("hidden_sessions")
        let role: String = try row.decode("role")
        let readsAll: Bool = try row.decode("reads_all_stats")
        let details: [String: JSONValue] = ["role": .string(role), "pg_read_all_stats": .bool(readsAll)]
        let grant = "GRANT pg_read_all_stats TO \((try? SQLIdentifier.quoted(role)) ?? role)"
        if hidden > 0 {
            return HealthSample(.postgres, key, "pg.sessions_hidden", value: hidden, unit: "count", status: .failed,
                                message: "cannot see \(Int(hidden)) sessions of other roles (their transactions and queries are missing from these figures): \(grant)",
                                details: details)
        }
        return HealthSample(.postgres, key, "pg.sessions_hidden", value: 0, unit: "count",
                            message: readsAll ? nil : "no other role's session now, but they would be hidden: \(grant)", details: details)
    }

    /// The session behind a longest-something figure, its query text with literals removed.
    private static func longest(_ key: String, _ metric: String, _ json: String?, none: String) throws -> HealthSample {
        guard let json, case .object(var session) = try JSONValue.parse(json) else {
            return HealthSample(.postgres, key, metric, value: 0, unit: "seconds", message: none)
        }
        let seconds: Double
        switch session.removeValue(forKey: "seconds") {
        case .double(let value)?: seconds = value
        case .int(let value)?: seconds = Double(value)
        default: seconds = 0
        }
        if let query = session["query"]?.stringValue { session["query"] = .string(QueryText.redacted(query)) }
        let who = [session["application_name"]?.stringValue, session["usename"]?.stringValue].compactMap { $0 }.filter { !$0.isEmpty }
        return HealthSample(.postgres, key, metric, value: seconds, unit: "seconds",
                            message: "pid \(session["pid"].map { "\($0)" } ?? "?")\(who.isEmpty ? "" : " (\(who.joined(separator: ", ")))")",
                            details: session)
    }

    /// Top tables by dead tuples, and the biggest tables with their last vacuum. Tables are
    /// ranked by the catalog's page counts (kept current by VACUUM and ANALYZE, so autovacuum),
    /// then by tuple counts; only the chosen few are measured exactly, with their indexes.
    /// Measuring every table would open each relation and cost milliseconds per hundred tables.
    private func tables(_ key: String, on connection: PostgresConnection) async throws -> [HealthSample] {
        guard settings.deadTuplesTop > 0 || settings.biggestTables > 0 else { return [] }
        let rows = try await connection.query(
            """
            WITH t AS (
                SELECT s.relid, s.schemaname || '.' || s.relname AS name, s.n_dead_tup, s.n_live_tup,
                       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,
                       c.relpages::bigint + coalesce(tc.relpages, 0) AS pages
                FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid
            ),
            dead AS (SELECT relid FROM t WHERE n_dead_tup > 0 ORDER BY n_dead_tup DESC, name LIMIT $1),
            big AS (SELECT relid FROM t ORDER BY pages DESC, n_live_tup + n_dead_tup DESC, name LIMIT $2)
            SELECT t.name, t.n_dead_tup, t.n_live_tup, pg_total_relation_size(t.relid) AS bytes,
                   t.relid IN (SELECT relid FROM dead) AS top_dead, t.relid IN (SELECT relid FROM big) AS biggest,
                   extract(epoch FROM now() - greatest(t.last_vacuum, t.last_autovacuum))::float8 AS vacuum_age,
                   t.last_vacuum, t.last_autovacuum, t.last_analyze, t.last_autoanalyze
            FROM t WHERE t.relid IN (SELECT relid FROM dead UNION SELECT relid FROM big)
            ORDER BY t.n_dead_tup DESC, t.name
            """,
            [settings.deadTuplesTop, settings.biggestTables]
        )
        var samples: [HealthSample] = []
        for row in rows.rows {
            let subject = "\(key)/\(try row.decode("name", as: String.self))"
            var times: [String: JSONValue] = [:]
            for column in ["last_vacuum", "last_autovacuum", "last_analyze", "last_autoanalyze"] {
                times[column] = (try row.decodeIfPresent(column, as: String.self)).map(JSONValue.string) ?? .null
            }
            let dead: Double = try row.decode("n_dead_tup")
            let live: Double = try row.decode("n_live_tup")
            if try row.decode("top_dead", as: Bool.self) {
                samples.append(HealthSample(.postgres, subject, "pg.table.dead_tuples", value: dead, unit: "count",
                                            details: ["live_tuples": .double(live)].merging(times) { a, _ in a }))
                samples.append(HealthSample(.postgres, subject, "pg.table.dead_percent", value: dead + live > 0 ? dead / (dead + live) * 100 : 0, unit: "percent"))
            }
            if try row.decode("biggest", as: Bool.self) {
                samples.append(HealthSample(.postgres, subject, "pg.table.size_bytes", value: try row.decode("bytes"), unit: "bytes"))
                if let age: Double = try row.decodeIfPresent("vacuum_age") {
                    samples.append(HealthSample(.postgres, subject, "pg.table.vacuum_age_seconds", value: age, unit: "seconds", details: times))
                } else {
                    samples.append(.failure(.postgres, subject, "pg.table.vacuum_age_seconds", "never vacuumed", status: .unknown, details: times))
                }
            }
        }
        return samples
    }
}
