import Foundation
import PostgresClient
import Settings
import Support

/// Archive health as the newest health samples of each host tell it, for `status`: one line
/// per archiving server and one per repository, and the problems worth a warning line.
package struct WALArchiveStatus: Sendable, Encodable {
    /// What one host's newest samples say about one archiving server.
    package struct Server: Sendable, Encodable {
        package let host: String
        package let server: String
        package let lastArchivedSeconds: Double?
        package let lastArchivedWAL: String?
        package let behindSeconds: Double?
        package let pendingSegments: Double?
        package let failedTotal: Double?
        package let failing: Bool
        package let lastFailedWAL: String?
        package let sampledAt: Date

        enum CodingKeys: String, CodingKey {
            case host, server, lastArchivedSeconds = "last_archived_seconds", lastArchivedWAL = "last_archived_wal"
            case behindSeconds = "behind_seconds", pendingSegments = "pending_segments", failedTotal = "failed_total"
            case failing, lastFailedWAL = "last_failed_wal", sampledAt = "sampled_at"
        }
    }

    /// What one host's newest scan says about the repository.
    package struct Repository: Sendable, Encodable {
        package let host: String
        package let timelines: Double?
        package let segments: Double?
        package let bytes: Double?
        package let newestAgeSeconds: Double?
        package let gaps: Double?
        /// Why there are no numbers (an unreadable repository), if so.
        package let problem: String?
        /// One line per timeline with a gap.
        package let gapLines: [String]
        package let sampledAt: Date

        enum CodingKeys: String, CodingKey {
            case host, timelines, segments, bytes, newestAgeSeconds = "newest_age_seconds", gaps, problem
            case gapLines = "gap_lines", sampledAt = "sampled_at"
        }
    }

    /// What one host's newest samples say about `wal_stream`: the receiver as the server sees
    /// it and, on the host that streams, its spool.
    package struct Stream: Sendable, Encodable {
        package let host: String
        package let slot: String?
        /// Nil when the server could not be asked.
        package let active: Bool?
        /// Why it is not streaming (or could not be asked), if so.
        package let problem: String?
        package let behindBytes: Double?
        package let retainedBytes: Double?
        package let walStatus: String?
        package let spoolWaiting: Double?
        package let spoolOldestSeconds: Double?
        package let moveError: String?
        package let sampledAt: Date

        enum CodingKeys: String, CodingKey {
            case host, slot, active, problem, behindBytes = "behind_bytes", retainedBytes = "retained_bytes", walStatus = "wal_status"
            case spoolWaiting = "spool_waiting", spoolOldestSeconds = "spool_oldest_seconds", moveError = "move_error", sampledAt = "sampled_at"
        }
    }

    /// What one host's newest samples say about `wal_archive.async`'s spool.
    package struct AsyncSpool: Sendable, Encodable {
        package let host: String
        package let pusherRunning: Bool?
        /// Segments PostgreSQL marked ready that are not stored yet; nil when unknown.
        package let pending: Double?
        package let oldestPendingSeconds: Double?
        package let oldestPending: String?
        package let failing: Bool
        /// The spool's current failure (`.error` files), else why there are no numbers.
        package let problem: String?
        package let lastError: String?
        package let sampledAt: Date

        enum CodingKeys: String, CodingKey {
            case host, pusherRunning = "pusher_running", pending, oldestPendingSeconds = "oldest_pending_seconds", oldestPending = "oldest_pending"
            case failing, problem, lastError = "last_error", sampledAt = "sampled_at"
        }
    }

    /// The session holding the stream lock: the streaming worker (its `application_name`).
    package struct StreamLock: Sendable, Encodable {
        package let pid: Int64
        package let holder: String?
        /// When that session connected (the lock is taken right after).
        package let connectedAt: Date?

        enum CodingKeys: String, CodingKey {
            case pid, holder, connectedAt = "connected_at"
        }
    }

    package let servers: [Server]
    package let repositories: [Repository]
    package let streams: [Stream]
    package let asyncSpools: [AsyncSpool]
    package let streamLock: StreamLock?

    enum CodingKeys: String, CodingKey {
        case servers, repositories, streams, asyncSpools = "async_spools", streamLock = "stream_lock"
    }

    /// Reads `latest_health`; empty when no host samples archiving (no `wal_archive:`, or no
    /// sampled server with `archive_mode` on, and no `wal_stream:` or asynchronous spool).
    package static func load(on connection: PostgresConnection) async throws -> WALArchiveStatus {
        let rows = try await connection.query(
            """
            SELECT host, subject, metric, value, status, message, details::text AS details, taken_at
            FROM orchestrator.latest_health
            WHERE metric LIKE 'pg.archive\\_%' OR metric LIKE 'wal.%'
            ORDER BY host, subject, metric
            """
        )
        struct Sample { let value: Double?; let status: String; let message: String?; let details: [String: JSONValue]; let takenAt: Date }
        var byKey: [String: [String: [String: Sample]]] = [:]  // host -> subject -> metric
        for row in rows.rows {
            let details: [String: JSONValue]
            if case .object(let object)? = try? JSONValue.parse(try row.decode("details")) { details = object } else { details = [:] }
            let sample = Sample(value: try row.decodeIfPresent("value"), status: try row.decode("status"), message: try row.decodeIfPresent("message"),
                                details: details, takenAt: try row.decode("taken_at"))
            byKey[try row.decode("host"), default: [:]][try row.decode("subject"), default: [:]][try row.decode("metric")] = sample
        }
        var servers: [Server] = []
        var repositories: [Repository] = []
        var streams: [Stream] = []
        var asyncSpools: [AsyncSpool] = []
        for (host, subjects) in byKey.sorted(by: { $0.key < $1.key }) {
            if let stream = subjects[WALSpoolSampler.streamSubject] {
                let active = stream["wal.stream_active"]
                let spool = stream["wal.stream_spool_segments"]
                streams.append(Stream(
                    host: host, slot: active?.details["slot"]?.stringValue, active: active?.value.map { $0 > 0 },
                    problem: active?.message, behindBytes: stream["wal.stream_behind_bytes"]?.value,
                    retainedBytes: active?.details["retained_bytes"].flatMap(Self.number), walStatus: active?.details["wal_status"]?.stringValue,
                    spoolWaiting: spool?.value, spoolOldestSeconds: stream["wal.stream_spool_oldest_seconds"]?.value,
                    moveError: stream["wal.stream_move_failing"]?.details["move_error"]?.stringValue,
                    sampledAt: (active ?? spool ?? stream.values.first!).takenAt
                ))
            }
            if let spool = subjects[WALSpoolSampler.asyncSubject] {
                let pending = spool["wal.async_pending_segments"]
                let failing = spool["wal.async_failing"]
                asyncSpools.append(AsyncSpool(
                    host: host, pusherRunning: spool["wal.async_pusher_running"]?.value.map { $0 > 0 }, pending: pending?.value,
                    oldestPendingSeconds: spool["wal.async_oldest_pending_seconds"]?.value, oldestPending: pending?.details["oldest_pending"]?.stringValue,
                    failing: (failing?.value ?? 0) > 0, problem: failing?.message ?? (pending?.value == nil ? pending?.message : nil),
                    lastError: pending?.details["last_error"]?.stringValue, sampledAt: (pending ?? spool.values.first!).takenAt
                ))
            }
            for (subject, metrics) in subjects.sorted(by: { $0.key < $1.key }) {
                if let failing = metrics["pg.archive_failing"] {
                    servers.append(Server(
                        host: host, server: subject, lastArchivedSeconds: metrics["pg.archive_last_archived_seconds"]?.value,
                        lastArchivedWAL: failing.details["last_archived_wal"]?.stringValue, behindSeconds: metrics["pg.archive_behind_seconds"]?.value,
                        pendingSegments: metrics["pg.archive_pending_segments"]?.value, failedTotal: metrics["pg.archive_failed_total"]?.value,
                        failing: (failing.value ?? 0) > 0, lastFailedWAL: failing.details["last_failed_wal"]?.stringValue, sampledAt: failing.takenAt
                    ))
                }
            }
            guard let total = subjects["wal"], let segments = total["wal.segments"] else { continue }
            let gapLines = subjects.filter { $0.key.hasPrefix("wal/") }.sorted { $0.key < $1.key }
                .compactMap { $0.value["wal.gaps"].flatMap { ($0.value ?? 0) > 0 ? $0.message : nil } }
            repositories.append(Repository(
                host: host, timelines: total["wal.timelines"]?.value, segments: segments.value, bytes: total["wal.bytes"]?.value,
                newestAgeSeconds: total["wal.newest_age_seconds"]?.value, gaps: total["wal.gaps"]?.value,
                problem: segments.value == nil ? segments.message : nil, gapLines: gapLines, sampledAt: segments.takenAt
            ))
        }
        return WALArchiveStatus(servers: servers, repositories: repositories, streams: streams, asyncSpools: asyncSpools,
                                streamLock: try await streamLock(on: connection))
    }

    /// The session holding `wal_stream`'s lock in this (the orchestrator's) database, if any:
    /// `pg_locks` splits the 64-bit key into `classid` (high half) and `objid` (low half).
    static func streamLock(on connection: PostgresConnection) async throws -> StreamLock? {
        let key = UInt64(bitPattern: WALStreamSettings.lockKey)
        guard let row = try await connection.query(
            """
            SELECT l.pid::int8 AS pid, a.application_name, a.backend_start
            FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid::int8 = $1 AND l.objid::int8 = $2
            """,
            [Int64(key >> 32), Int64(key & 0xFFFF_FFFF)]
        ).first else { return nil }
        return StreamLock(pid: try row.decode("pid"), holder: try row.decodeIfPresent("application_name"), connectedAt: try row.decodeIfPresent("backend_start"))
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: return nil
        }
    }
}
