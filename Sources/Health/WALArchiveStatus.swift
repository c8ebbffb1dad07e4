import Foundation
import PostgresClient
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

    package let servers: [Server]
    package let repositories: [Repository]

    /// Reads `latest_health`; empty when no host samples archiving (no `wal_archive:`, or no
    /// sampled server with `archive_mode` on).
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
        for (host, subjects) in byKey.sorted(by: { $0.key < $1.key }) {
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
        return WALArchiveStatus(servers: servers, repositories: repositories)
    }
}
