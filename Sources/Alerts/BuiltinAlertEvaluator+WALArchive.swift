import Foundation
import Health
import PostgresClient
import Settings
import Support

extension BuiltinAlertEvaluator {
    /// WAL archive alerts, judged from each host's newest health samples (`latest_health`), so
    /// the `check-alerts` kind and every health run agree and no evaluation touches the server
    /// or the repository itself:
    ///
    /// * `wal_archive_behind` (per host and server) — finished segments have waited longer than
    ///   `after_minutes` (default `wal_archive.warn_behind_minutes`);
    /// * `wal_archive_failing` (per host and server) — the last archive attempt failed;
    /// * `wal_archive_gap` (per host and timeline) — the repository misses segments.
    ///
    /// A sample without a number (a server in recovery), or none because its source failed (an
    /// unreadable repository, an unreachable server), leaves the alert as it is; a number that
    /// is fine again resolves it.
    func walArchive(now: Date, on connection: PostgresConnection) async throws -> (conditions: [AlertCondition], undecided: Set<AlertCondition.Key>) {
        var metrics: [String] = []
        if settings.walArchiveBehind.enabled { metrics.append("pg.archive_behind_seconds") }
        if settings.walArchiveFailing.enabled { metrics.append("pg.archive_failing") }
        if settings.walArchiveGap.enabled { metrics.append("wal.gaps") }
        guard !metrics.isEmpty else { return ([], []) }
        // Subject `wal` is the whole repository's total; gaps are judged per timeline.
        let samples = try await LatestHealthSample.load(metrics: metrics, on: connection).filter { $0.subject != "wal" }
        let behindMinutes = settings.walArchiveBehind.limit ?? configuration.walArchive?.warnBehindMinutes ?? 5
        var conditions: [AlertCondition] = []
        var undecided: Set<AlertCondition.Key> = []
        for sample in samples {
            let (host, subject, metric, value, takenAt, details) = (sample.host, sample.subject, sample.metric, sample.value, sample.takenAt, sample.details)
            let rule: String
            switch metric {
            case "pg.archive_behind_seconds": rule = "wal_archive_behind"
            case "pg.archive_failing": rule = "wal_archive_failing"
            default: rule = "wal_archive_gap"
            }
            guard let value else {
                undecided.insert(AlertCondition.Key(rule: rule, subject: subject, host: host))
                continue
            }
            switch rule {
            case "wal_archive_behind":
                let minutes = Int(value / 60)
                guard value >= Double(behindMinutes * 60) else { continue }
                let pending = details["pending_segments"]?.intValue
                let waiting = pending.map { ", \($0) finished segment\($0 == 1 ? "" : "s") waiting" } ?? ""
                conditions.append(AlertCondition(
                    rule: rule, source: .builtin, subject: subject, host: host, severity: settings.walArchiveBehind.severity,
                    value: Double(minutes), threshold: Double(behindMinutes),
                    summary: "WAL archive behind \(AlertMessageText.minutes(minutes)) on \(host) (\(subject))\(waiting); last archived \(details["last_archived_wal"]?.stringValue ?? "nothing")",
                    details: details, firstSeenAt: min(now, takenAt.addingTimeInterval(Double(behindMinutes * 60) - value))
                ))
            case "wal_archive_failing":
                guard value > 0 else { continue }
                let wal = details["last_failed_wal"]?.stringValue ?? "?"
                conditions.append(AlertCondition(
                    rule: rule, source: .builtin, subject: subject, host: host, severity: settings.walArchiveFailing.severity,
                    value: 1, threshold: nil,
                    summary: "archiving failing: \(wal) on \(host) (\(subject)); PostgreSQL keeps the segment and retries, see its log for archive_command's error",
                    details: details, firstSeenAt: min(now, takenAt)
                ))
            default:
                guard value > 0, case .array(let gaps)? = details["gaps"], case .object(let first)? = gaps.first else { continue }
                let timeline = subject.hasPrefix("wal/") ? String(subject.dropFirst(4)) : subject
                let after = first["after"]?.stringValue ?? "?"
                let missing = first["missing"]?.intValue ?? 1
                let missingText = missing == 1 ? (first["first_missing"]?.stringValue ?? "?")
                    : "\(first["first_missing"]?.stringValue ?? "?") to \(first["last_missing"]?.stringValue ?? "?") (\(missing) segments)"
                let more = Int(value) > 1 ? " and \(Int(value) - 1) more gap\(Int(value) == 2 ? "" : "s")" : ""
                conditions.append(AlertCondition(
                    rule: rule, source: .builtin, subject: subject, host: host, severity: settings.walArchiveGap.severity,
                    value: value, threshold: nil,
                    summary: "gap after segment \(after) on timeline \(timeline): missing \(missingText)\(more); a restore cannot pass it, take a new base backup",
                    details: details, firstSeenAt: min(now, takenAt)
                ))
            }
        }
        undecided.formUnion(try await unjudged(on: connection))
        return (conditions, undecided)
    }

    /// Firing WAL episodes whose host's newest run has no sample to judge them by because the
    /// source failed: an unreadable repository (no per-timeline samples at all), an unreachable
    /// server or a failed archiver query. They stay as they are rather than resolve.
    func unjudged(on connection: PostgresConnection) async throws -> Set<AlertCondition.Key> {
        let rows = try await connection.query(
            """
            SELECT a.rule, a.subject, a.host
            FROM orchestrator.alerts a
            WHERE a.state = 'firing' AND a.source = 'builtin'
              AND a.rule IN ('wal_archive_behind', 'wal_archive_failing', 'wal_archive_gap')
              AND NOT EXISTS (
                    SELECT 1 FROM orchestrator.latest_health l
                    WHERE l.host = a.host AND l.subject = a.subject
                      AND l.metric = CASE a.rule WHEN 'wal_archive_behind' THEN 'pg.archive_behind_seconds'
                                                 WHEN 'wal_archive_failing' THEN 'pg.archive_failing' ELSE 'wal.gaps' END)
              AND EXISTS (
                    SELECT 1 FROM orchestrator.latest_health l
                    WHERE l.host = a.host AND l.status = 'failed'
                      AND CASE WHEN a.rule = 'wal_archive_gap' THEN l.subject = 'wal' AND l.metric = 'wal.gaps' AND l.value IS NULL
                               ELSE (l.metric = 'pg.up' AND l.value = 0) OR (l.metric = 'pg.sample_ms' AND l.message LIKE '%archiver:%') END)
            """
        )
        return Set(try rows.rows.map { AlertCondition.Key(rule: try $0.decode("rule"), subject: try $0.decode("subject"), host: try $0.decode("host")) })
    }
}
