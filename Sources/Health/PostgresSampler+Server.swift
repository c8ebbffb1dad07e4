import PostgresClient
import Support

extension PostgresSampler {
    /// Figures that belong to the server rather than one database, sampled once per server:
    /// connections against `max_connections`, recovery state, replicas and replication slots.
    /// `subject` is `server`, or `server:VAR` for databases reached through `url_env: VAR`.
    func sampleServer(_ subject: String, on connection: PostgresConnection) async throws -> [HealthSample] {
        let row = try await connection.query(
            """
            SELECT current_setting('max_connections')::int AS max_connections,
                   (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS connections,
                   pg_is_in_recovery() AS in_recovery,
                   CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS replay_delay,
                   (SELECT coalesce(json_agg(json_build_object(
                        'name', coalesce(nullif(application_name, ''), client_addr::text, pid::text), 'state', state, 'sync_state', sync_state,
                        'lag_bytes', CASE WHEN NOT pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) END,
                        'lag_seconds', extract(epoch FROM replay_lag))), '[]')::text FROM pg_stat_replication) AS replicas,
                   (SELECT coalesce(json_agg(json_build_object(
                        'name', slot_name, 'type', slot_type, 'active', active, 'database', database, 'wal_status', wal_status,
                        'retained_bytes', CASE WHEN NOT pg_is_in_recovery() AND restart_lsn IS NOT NULL
                                               THEN pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) END)), '[]')::text
                      FROM pg_replication_slots) AS slots
            """
        ).single()  // a SELECT without FROM returns one row
        let maximum: Double = try row.decode("max_connections")
        let connections: Double = try row.decode("connections")
        let inRecovery: Bool = try row.decode("in_recovery")
        var samples = [
            HealthSample(.postgres, subject, "pg.connections_total", value: connections, unit: "count"),
            HealthSample(.postgres, subject, "pg.max_connections", value: maximum, unit: "count"),
            HealthSample(.postgres, subject, "pg.connections_used_percent", value: maximum > 0 ? connections / maximum * 100 : nil, unit: "percent"),
            HealthSample(.postgres, subject, "pg.in_recovery", value: inRecovery ? 1 : 0, unit: "boolean"),
        ]
        if inRecovery {
            if let delay: Double = try row.decodeIfPresent("replay_delay") {
                samples.append(HealthSample(.postgres, subject, "pg.replay_delay_seconds", value: delay, unit: "seconds"))
            } else {
                samples.append(.failure(.postgres, subject, "pg.replay_delay_seconds", "nothing replayed yet", status: .unknown))
            }
        }
        guard case .array(let replicas) = try JSONValue.parse(try row.decode("replicas")),
              case .array(let slots) = try JSONValue.parse(try row.decode("slots")) else { return samples }
        samples.append(HealthSample(.postgres, subject, "pg.replicas", value: Double(replicas.count), unit: "count"))
        for case .object(let replica) in replicas {
            let name = "\(subject)/replica/\(replica["name"]?.stringValue ?? "?")"
            samples.append(HealthSample(.postgres, name, "pg.replication_lag_bytes", value: Self.number(replica["lag_bytes"]), unit: "bytes", details: replica))
            if let seconds = Self.number(replica["lag_seconds"]) {
                samples.append(HealthSample(.postgres, name, "pg.replication_lag_seconds", value: seconds, unit: "seconds"))
            }
        }
        for case .object(let slot) in slots {
            let name = "\(subject)/slot/\(slot["name"]?.stringValue ?? "?")"
            samples.append(HealthSample(.postgres, name, "pg.slot_active", value: slot["active"]?.boolValue == true ? 1 : 0, unit: "boolean", details: slot))
            if let retained = Self.number(slot["retained_bytes"]) {
                samples.append(HealthSample(.postgres, name, "pg.slot_retained_bytes", value: retained, unit: "bytes"))
            }
        }
        return samples
    }

    static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let number)?: return Double(number)
        case .double(let number)?: return number
        default: return nil
        }
    }
}
