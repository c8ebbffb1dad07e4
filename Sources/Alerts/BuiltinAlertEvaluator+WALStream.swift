import Foundation
import Health
import PostgresClient
import Settings
import Support

extension BuiltinAlertEvaluator {
    /// Alerts about the WAL receiver, replication slots and the spools, judged like the other
    /// WAL alerts from each host's newest health samples (`latest_health`):
    ///
    /// * `wal_stream_stopped` (per host) — `wal_stream`'s slot has had no receiver for
    ///   `after_minutes`, counted from the first of the unbroken run of samples saying so;
    /// * `wal_slot_retained` (per host and slot) — a slot keeps more than `above_mb` of WAL on
    ///   its server (every slot of a sampled server, not only the stream's: an abandoned slot
    ///   fills the disk the same way);
    /// * `wal_spool_behind` (per host and spool) — the oldest segment waiting in the stream
    ///   spool or the asynchronous pusher's backlog has waited `after_minutes` (default
    ///   `wal_archive.warn_behind_minutes`).
    ///
    /// A sample without a number (the server could not be asked, no pusher has run yet) leaves
    /// the alert as it is.
    func walStream(now: Date, on connection: PostgresConnection) async throws -> (conditions: [AlertCondition], undecided: Set<AlertCondition.Key>) {
        var metrics: [String] = []
        if settings.walStreamStopped.enabled { metrics.append("wal.stream_active") }
        if settings.walSlotRetained.enabled { metrics.append("pg.slot_retained_bytes") }
        if settings.walSpoolBehind.enabled { metrics += ["wal.stream_spool_oldest_seconds", "wal.async_oldest_pending_seconds"] }
        guard !metrics.isEmpty else { return ([], []) }
        let samples = try await LatestHealthSample.load(metrics: metrics, on: connection)
        let stoppedMinutes = settings.walStreamStopped.limit ?? 5
        let retainedMB = settings.walSlotRetained.limit ?? BuiltinAlertSettings.defaultSlotRetainedMB
        let spoolMinutes = settings.walSpoolBehind.limit ?? configuration.walArchive?.warnBehindMinutes ?? 5
        var conditions: [AlertCondition] = []
        var undecided: Set<AlertCondition.Key> = []
        for sample in samples {
            let (host, subject, metric, value, takenAt, details) = (sample.host, sample.subject, sample.metric, sample.value, sample.takenAt, sample.details)
            let message = sample.message
            let rule = switch metric {
            case "wal.stream_active": "wal_stream_stopped"
            case "pg.slot_retained_bytes": "wal_slot_retained"
            default: "wal_spool_behind"
            }
            let key = AlertCondition.Key(rule: rule, subject: subject, host: host)
            guard let value else {
                undecided.insert(key)
                continue
            }
            switch rule {
            case "wal_stream_stopped":
                guard value < 0.5 else { continue }
                let sample = HealthSample(.postgres, subject, metric, value: value)
                let since = try await ThresholdEvaluator.conditionStart(host: host, sample: sample, level: 0.5, below: true, until: now, on: connection) ?? takenAt
                let minutes = Int(now.timeIntervalSince(since) / 60)
                guard now.timeIntervalSince(since) >= Double(stoppedMinutes * 60) - 0.001 else {
                    undecided.insert(key)  // not long enough yet: an open episode stays
                    continue
                }
                let slot = details["slot"]?.stringValue ?? "?"
                conditions.append(AlertCondition(
                    rule: rule, source: .builtin, subject: subject, host: host, severity: settings.walStreamStopped.severity,
                    value: Double(minutes), threshold: Double(stoppedMinutes),
                    summary: "WAL stream stopped for \(AlertMessageText.minutes(minutes)) on \(host) (slot \(slot)): nothing is archived and the slot keeps the server's WAL; "
                        + AlertMessageText.line(message ?? "no receiver uses the slot", limit: 200),
                    details: details, firstSeenAt: min(now, since)
                ))
            case "wal_slot_retained":
                let limit = Double(retainedMB) * 1_048_576
                guard value > limit else { continue }
                let slot = subject.split(separator: "/").last.map(String.init) ?? subject
                let megabytes = Int(value / 1_048_576)
                conditions.append(AlertCondition(
                    rule: rule, source: .builtin, subject: subject, host: host, severity: settings.walSlotRetained.severity,
                    value: Double(megabytes), threshold: Double(retainedMB),
                    summary: "replication slot \(slot) keeps \(megabytes) MB of WAL on the server (\(subject), seen from \(host)); it grows until its receiver "
                        + "catches up and fills the server's disk: start the receiver, or drop a slot nothing uses with SELECT pg_drop_replication_slot('\(slot)')",
                    details: details, firstSeenAt: min(now, takenAt)
                ))
            default:
                guard value >= Double(spoolMinutes * 60) else { continue }
                let minutes = Int(value / 60)
                let what = metric == "wal.async_oldest_pending_seconds"
                    ? "asynchronous archiving: \(details["oldest_pending"]?.stringValue ?? "a segment") not stored for"
                    : "stream spool: \(details["oldest_waiting"]?.stringValue ?? "a segment") not moved into the repository for"
                let error = details["move_error"]?.stringValue ?? details["last_error"]?.stringValue
                conditions.append(AlertCondition(
                    rule: rule, source: .builtin, subject: subject, host: host, severity: settings.walSpoolBehind.severity,
                    value: Double(minutes), threshold: Double(spoolMinutes),
                    summary: "\(what) \(AlertMessageText.minutes(minutes)) on \(host)" + (error.map { "; last error: " + AlertMessageText.line($0, limit: 200) } ?? ""),
                    details: details, firstSeenAt: min(now, takenAt.addingTimeInterval(Double(spoolMinutes * 60) - value))
                ))
            }
        }
        if settings.walSlotRetained.enabled { undecided.formUnion(try await unjudgedSlots(on: connection)) }
        return (conditions, undecided)
    }

    /// Firing `wal_slot_retained` episodes whose host's newest run could not ask the server
    /// (unreachable, a failed server query, or the stream's server not answering): the slot's
    /// sample is missing because of that, not because the slot is gone, so they stay.
    func unjudgedSlots(on connection: PostgresConnection) async throws -> Set<AlertCondition.Key> {
        let rows = try await connection.query(
            """
            SELECT a.rule, a.subject, a.host
            FROM orchestrator.alerts a
            WHERE a.state = 'firing' AND a.source = 'builtin' AND a.rule = 'wal_slot_retained'
              AND NOT EXISTS (
                    SELECT 1 FROM orchestrator.latest_health l
                    WHERE l.host = a.host AND l.subject = a.subject AND l.metric = 'pg.slot_retained_bytes')
              AND EXISTS (
                    SELECT 1 FROM orchestrator.latest_health l
                    WHERE l.host = a.host AND l.status = 'failed'
                      AND ((l.metric = 'pg.up' AND l.value = 0) OR (l.metric = 'pg.sample_ms' AND l.message LIKE '%server:%')
                           OR (l.metric = 'wal.stream_active' AND l.value IS NULL)))
            """
        )
        return Set(try rows.rows.map { AlertCondition.Key(rule: try $0.decode("rule"), subject: try $0.decode("subject"), host: try $0.decode("host")) })
    }
}
