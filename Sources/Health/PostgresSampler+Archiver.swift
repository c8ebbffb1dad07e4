import PostgresClient
import Support

extension PostgresSampler {
    /// `pg_stat_archiver` and the WAL position, once per server whose `archive_mode` is not
    /// off (a server that does not archive reports nothing). Everything read here is open to
    /// any role; the `.ready` files' ages only to superusers and `pg_monitor` members, and
    /// without them the backlog's age is counted from the last archived file. (The privilege
    /// is checked before a second statement: PostgreSQL checks EXECUTE when it plans a call,
    /// so a CASE around it in the same statement would not keep it from failing.)
    func sampleArchiver(_ subject: String, on connection: PostgresConnection) async throws -> [HealthSample] {
        let row = try await connection.query(
            """
            SELECT current_setting('archive_mode') AS archive_mode, pg_is_in_recovery() AS in_recovery,
                   a.archived_count, a.last_archived_wal, extract(epoch FROM now() - a.last_archived_time)::float8 AS archived_seconds,
                   a.failed_count, a.last_failed_wal, extract(epoch FROM now() - a.last_failed_time)::float8 AS failed_seconds,
                   (a.last_failed_time IS NOT NULL AND (a.last_archived_time IS NULL OR a.last_failed_time > a.last_archived_time)) AS failing,
                   (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size') AS segment_size,
                   CASE WHEN NOT pg_is_in_recovery() THEN pg_walfile_name(pg_current_wal_lsn()) END AS current_wal,
                   CASE WHEN NOT pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text END AS current_position,
                   has_function_privilege('pg_ls_archive_statusdir()', 'EXECUTE') AS lists_ready
            FROM pg_stat_archiver a
            """
        ).single()
        let mode: String = try row.decode("archive_mode")
        guard mode != "off" else { return [] }
        let failedCount: Double = try row.decode("failed_count")
        let failing: Bool = try row.decode("failing")
        let lastArchived: String? = try row.decodeIfPresent("last_archived_wal")
        let archivedSeconds: Double? = try row.decodeIfPresent("archived_seconds")
        let lastFailed: String? = try row.decodeIfPresent("last_failed_wal")
        let failedSeconds: Double? = try row.decodeIfPresent("failed_seconds")
        var failure: [String: JSONValue] = [:]
        if let lastFailed { failure["last_failed_wal"] = .string(lastFailed) }
        if let lastArchived { failure["last_archived_wal"] = .string(lastArchived) }
        var samples = [
            HealthSample(.postgres, subject, "pg.archive_failed_total", value: failedCount, unit: "count", details: failure),
            HealthSample(.postgres, subject, "pg.archive_failing", value: failing ? 1 : 0, unit: "boolean",
                         status: failing ? .failed : .ok,
                         message: failing ? "the last archive_command failed on \(lastFailed ?? "?"); see the server log for its error" : nil,
                         details: failure),
        ]
        samples.append(archivedSeconds.map {
            HealthSample(.postgres, subject, "pg.archive_last_archived_seconds", value: $0, unit: "seconds", details: failure)
        } ?? .failure(.postgres, subject, "pg.archive_last_archived_seconds", "nothing archived since the statistics were reset", status: .unknown))
        samples.append(failedSeconds.map {
            HealthSample(.postgres, subject, "pg.archive_last_failed_seconds", value: $0, unit: "seconds", details: failure)
        } ?? .failure(.postgres, subject, "pg.archive_last_failed_seconds", "no failure since the statistics were reset", status: .absent))

        let inRecovery: Bool = try row.decode("in_recovery")
        guard !inRecovery, let positionText: String = try row.decodeIfPresent("current_position"),
              let position = UInt64(positionText), let segmentSize: Int64 = try row.decodeIfPresent("segment_size"), segmentSize > 0 else {
            let why = inRecovery ? "the server is in recovery: it has no WAL position of its own" : "the WAL position could not be read"
            samples.append(.failure(.postgres, subject, "pg.archive_pending_segments", why, status: .unknown))
            samples.append(.failure(.postgres, subject, "pg.archive_behind_seconds", why, status: .unknown))
            return samples
        }
        let failedFirst = failing && lastArchived == nil ? lastFailed : nil
        var backlog = ArchiverBacklog(lastArchived: lastArchived, lastArchivedSeconds: archivedSeconds, failedFirst: failedFirst,
                                      currentPosition: position, segmentSize: UInt64(segmentSize), oldestReadySeconds: nil)
        if (backlog.pendingSegments ?? 0) > 0, try row.decode("lists_ready", as: Bool.self) {
            // Only when something waits: an idle server costs no directory listing.
            let oldest: Double? = try await connection.query(
                "SELECT extract(epoch FROM now() - min(modification))::float8 AS oldest FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'"
            ).single().decodeIfPresent("oldest")
            backlog = ArchiverBacklog(lastArchived: lastArchived, lastArchivedSeconds: archivedSeconds, failedFirst: failedFirst,
                                      currentPosition: position, segmentSize: UInt64(segmentSize), oldestReadySeconds: oldest ?? 0)
        }
        var details = failure
        details["current_wal"] = try row.decodeIfPresent("current_wal", as: String.self).map(JSONValue.string)
        if let source = backlog.source { details["measured_from"] = .string(source) }
        if let pending = backlog.pendingSegments { details["pending_segments"] = .int(pending) }
        if let pending = backlog.pendingSegments {
            samples.append(HealthSample(.postgres, subject, "pg.archive_pending_segments", value: Double(pending), unit: "count", details: details))
        } else {
            samples.append(.failure(.postgres, subject, "pg.archive_pending_segments",
                                    "the last archived file (\(lastArchived ?? "none since the statistics were reset")) names no segment", status: .unknown))
        }
        if let behind = backlog.behindSeconds {
            samples.append(HealthSample(.postgres, subject, "pg.archive_behind_seconds", value: behind, unit: "seconds", details: details))
        } else {
            samples.append(.failure(.postgres, subject, "pg.archive_behind_seconds",
                                    "cannot tell how long segments have waited (\(lastArchived.map { "last archived \($0)" } ?? "nothing archived yet"))", status: .unknown))
        }
        return samples
    }
}
