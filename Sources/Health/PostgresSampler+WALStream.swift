import PostgresClient
import Settings
import Support

extension PostgresSampler {
    /// `wal_stream`'s receiver as its server sees it, in one query: whether a receiver uses the
    /// slot (`pg_replication_slots.active`), how far the received WAL is behind the server's
    /// position (`pg_stat_replication.flush_lsn`, which other roles' sessions hide without
    /// `pg_read_all_stats`, else the slot's `restart_lsn`, which pg_receivewal advances as it
    /// flushes) and the WAL the slot keeps on the server. Subject `wal_stream`; with
    /// `slotSubject` (the server's `…/slot/<slot>` when health does not sample that server
    /// already) also the slot's `pg.slot_retained_bytes`, which the `wal_slot_retained` alert reads.
    func sampleStream(_ settings: WALStreamSettings, slotSubject: String?, on connection: PostgresConnection) async throws -> [HealthSample] {
        let subject = WALSpoolSampler.streamSubject
        let row = try await connection.query(
            """
            SELECT s.slot_name IS NOT NULL AS slot_exists, coalesce(s.active, false) AS active, s.active_pid, s.wal_status,
                   s.safe_wal_size::float8 AS safe_wal_size, pg_is_in_recovery() AS in_recovery,
                   CASE WHEN NOT pg_is_in_recovery() AND s.restart_lsn IS NOT NULL
                        THEN pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::float8 END AS retained_bytes,
                   CASE WHEN NOT pg_is_in_recovery() AND coalesce(r.flush_lsn, s.restart_lsn) IS NOT NULL
                        THEN pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(r.flush_lsn, s.restart_lsn))::float8 END AS behind_bytes,
                   CASE WHEN r.flush_lsn IS NOT NULL THEN 'flush_lsn' ELSE 'restart_lsn' END AS measured_from,
                   r.state, r.application_name, r.client_addr::text AS client_addr, r.flush_lsn::text AS flush_lsn
            FROM (SELECT 1) one
            LEFT JOIN pg_replication_slots s ON s.slot_name = $1
            LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
            """,
            [settings.slot]
        ).single()
        let exists: Bool = try row.decode("slot_exists")
        let active: Bool = try row.decode("active")
        let retained: Double? = try row.decodeIfPresent("retained_bytes")
        let walStatus: String? = try row.decodeIfPresent("wal_status")
        var details: [String: JSONValue] = ["slot": .string(settings.slot), "database": .string(settings.database)]
        details["active_pid"] = try row.decodeIfPresent("active_pid", as: Int64.self).map(JSONValue.int)
        details["wal_status"] = walStatus.map(JSONValue.string)
        details["safe_wal_size"] = try row.decodeIfPresent("safe_wal_size", as: Double.self).map(JSONValue.double)
        details["retained_bytes"] = retained.map(JSONValue.double)
        details["state"] = try row.decodeIfPresent("state", as: String.self).map(JSONValue.string)
        details["application_name"] = try row.decodeIfPresent("application_name", as: String.self).map(JSONValue.string)
        details["client_addr"] = try row.decodeIfPresent("client_addr", as: String.self).map(JSONValue.string)
        details["flush_lsn"] = try row.decodeIfPresent("flush_lsn", as: String.self).map(JSONValue.string)

        let problem: String?
        if !exists {
            problem = "replication slot \(settings.slot) does not exist on the server of database \(settings.database): "
                + "no worker has streamed yet (the streaming worker creates it), or it was dropped"
        } else if !active {
            problem = "replication slot \(settings.slot) has no receiver: no worker runs pg_receivewal "
                + "(is a worker with wal_stream running? its log says why pg_receivewal exits)"
        } else {
            problem = nil
        }
        let lost = walStatus == "lost" ? "; the slot has lost WAL the receiver never got: the archive has a gap, take a new base backup" : ""
        var samples = [
            HealthSample(.postgres, subject, "wal.stream_active", value: active ? 1 : 0, unit: "boolean",
                         status: active && lost.isEmpty ? .ok : .failed, message: problem.map { $0 + lost } ?? (lost.isEmpty ? nil : String(lost.dropFirst(2))),
                         details: details),
        ]
        if let behind: Double = try row.decodeIfPresent("behind_bytes") {
            var measured = details
            measured["measured_from"] = .string(try row.decode("measured_from"))
            samples.append(HealthSample(.postgres, subject, "wal.stream_behind_bytes", value: max(0, behind), unit: "bytes", details: measured))
        } else {
            let why = try row.decode("in_recovery", as: Bool.self) ? "the server is in recovery: it has no WAL position of its own"
                : "the slot has no position yet"
            samples.append(.failure(.postgres, subject, "wal.stream_behind_bytes", exists ? why : problem ?? why, status: .unknown))
        }
        if let slotSubject, let retained {
            samples.append(HealthSample(.postgres, slotSubject, "pg.slot_retained_bytes", value: retained, unit: "bytes", details: details))
        }
        return samples
    }
}
