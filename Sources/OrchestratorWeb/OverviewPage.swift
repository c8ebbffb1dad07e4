import Foundation
import Health
import Queue

/// The overview as the template sees it: text already formatted, levels as CSS class names.
/// Every string here is HTML-escaped by the template (`{{…}}`); none is inserted raw.
struct OverviewPage {
    struct Problem { let level: String; let text: String; let since: String }
    struct Tile { let level: String; let label: String; let place: String; let value: String; let note: String; let hasSparkline: Bool; let sparkline: String }
    struct Worker { let id: String; let host: String; let queues: String; let running: String; let heartbeat: String; let level: String }
    struct Backup { let profile: String; let verified: String; let size: String; let duration: String; let drill: String; let rto: String; let rpo: String; let level: String }
    struct Line { let level: String; let text: String }
    struct Alert { let severity: String; let summary: String; let place: String; let since: String }
    struct Service { let level: String; let name: String; let check: String; let host: String; let state: String; let since: String }

    let verdict: String
    let verdictLevel: String
    let generatedAt: String
    let schemaVersion: String
    let problems: [Problem]
    let tiles: [Tile]
    let queued: Int
    let running: Int
    let oldestQueued: String
    let finished: String
    let failedRuns: Int
    let workers: [Worker]
    let services: [Service]
    let backups: [Backup]
    let wal: [Line]
    let alertsCritical: Int
    let alertsWarning: Int
    let alerts: [Alert]
    // Mustache cannot ask an array whether it is empty around a list's wrapper element, and
    // it reads stored properties only (through Mirror).
    let hasProblems: Bool
    let hasWorkers: Bool
    let hasServices: Bool
    let hasBackups: Bool
    let hasWal: Bool
    let hasAlerts: Bool

    init(_ overview: Overview, heartbeatSeconds: Int) {
        let now = overview.generatedAt
        let queue = overview.queue
        var problems: [Problem] = []

        for alert in overview.alerts {
            problems.append(Problem(level: alert.severity == "critical" ? "critical" : "warning", text: alert.summary,
                                    since: DisplayText.ago(alert.firedAt, now: now)))
        }
        for failure in overview.failures {
            let target = failure.target.map { " \($0)" } ?? ""
            problems.append(Problem(level: "warning", text: "job \(failure.id) \(failure.kind)\(target) failed: \(failure.error.map { String($0.prefix(300)) } ?? "no error recorded")",
                                    since: DisplayText.ago(failure.finishedAt, now: now)))
        }
        let queuedCount = queue.jobsByState[JobState.queued.rawValue] ?? 0
        if queue.workersAlive.isEmpty && queuedCount > 0 {
            problems.append(Problem(level: "critical", text: "\(queuedCount) jobs are queued but no worker is alive",
                                    since: DisplayText.ago(queue.oldestQueuedAt, now: now)))
        }
        for backup in overview.backups {
            for warning in backup.freshness.warnings {
                problems.append(Problem(level: "warning", text: warning, since: DisplayText.ago(backup.freshness.newestVerifiedAt, now: now)))
            }
        }
        let wal = Self.walLines(overview.walArchive, now: now)
        problems += wal.filter { $0.level != "ok" }.map { Problem(level: $0.level, text: $0.text, since: "") }
        for tile in overview.tiles where tile.level == .warning || tile.level == .critical {
            problems.append(Problem(level: tile.level.rawValue, text: "\(tile.metric) \(tile.subject)@\(tile.host): \(tile.value.map { DisplayText.value($0, unit: tile.unit) } ?? tile.message ?? "no value")",
                                    since: "measured \(DisplayText.ago(tile.takenAt, now: now))"))
        }
        for service in overview.services where !service.up {
            problems.append(Problem(level: "critical", text: "\(service.check) check \(service.name)@\(service.host) is down\(service.message.map { ": " + JobsPage.firstLine($0) } ?? "")",
                                    since: "checked \(DisplayText.ago(service.takenAt, now: now))"))
        }
        problems.sort { ($0.level == "critical" ? 0 : 1) < ($1.level == "critical" ? 0 : 1) }

        self.problems = problems
        verdictLevel = problems.contains { $0.level == "critical" } ? "critical" : (problems.isEmpty ? "ok" : "warning")
        verdict = problems.isEmpty ? "All fine" : "\(problems.count) \(problems.count == 1 ? "problem" : "problems")"
        generatedAt = DisplayText.time(now)
        schemaVersion = queue.schemaVersion.map(String.init) ?? "none"
        services = overview.services.map { service in
            var facts = [service.up ? "up" : "down"]
            if let ms = service.responseMilliseconds { facts.append(DisplayText.value(ms, unit: "milliseconds")) }
            if let days = service.certificateDaysLeft { facts.append("certificate \(Int(days)) days left") }
            if !service.up, let message = service.message { facts.append(JobsPage.firstLine(message)) }
            return Service(level: service.up ? "ok" : "critical", name: service.name, check: service.check, host: service.host,
                           state: facts.joined(separator: ", "), since: "checked \(DisplayText.ago(service.takenAt, now: now))")
        }
        tiles = overview.tiles.map { tile in
            let points = Sparkline.points(tile.history)
            return Tile(level: tile.level.rawValue, label: tile.metric, place: "\(tile.subject) @ \(tile.host)",
                        value: DisplayText.value(tile.value, unit: tile.unit), note: tile.message ?? "measured \(DisplayText.ago(tile.takenAt, now: now))",
                        hasSparkline: points != nil, sparkline: points ?? "")
        }
        queued = queuedCount
        running = queue.jobsByState[JobState.running.rawValue] ?? 0
        oldestQueued = queue.oldestQueuedAt.map { DisplayText.ago($0, now: now) } ?? "none queued"
        finished = JobState.allCases.filter(\.isFinished).map { "\($0.rawValue) \(queue.finishedLast24h[$0.rawValue] ?? 0)" }.joined(separator: ", ")
        failedRuns = queue.failedLast24h
        workers = queue.workersAlive.map { worker in
            let age = now.timeIntervalSince(worker.heartbeatAt)
            return Worker(id: worker.id, host: worker.host, queues: worker.queues.joined(separator: ", "),
                          running: "\(worker.runningJobs)/\(worker.concurrency)", heartbeat: DisplayText.ago(worker.heartbeatAt, now: now),
                          level: age > Double(heartbeatSeconds * 3) ? "warning" : "ok")
        }
        backups = overview.backups.map { backup in
            let summary = backup.summary
            return Backup(
                profile: backup.freshness.profile, verified: DisplayText.ago(backup.freshness.newestVerifiedAt, now: now),
                size: summary?.verifiedBytes.map { DisplayText.bytes(Double($0)) } ?? "–",
                duration: summary?.verifiedSeconds.map(DisplayText.duration) ?? "–",
                drill: DisplayText.ago(backup.freshness.newestDrillAt, now: now),
                rto: summary?.drillRestoreSeconds.map(DisplayText.duration) ?? "–",
                rpo: summary?.drillBackupAgeSeconds.map(DisplayText.duration) ?? "–",
                level: backup.freshness.warnings.isEmpty ? "ok" : "warning"
            )
        }
        self.wal = wal
        alertsCritical = overview.alertCounts.bySeverity["critical"] ?? 0
        alertsWarning = overview.alertCounts.bySeverity["warning"] ?? 0
        alerts = overview.alerts.map { alert in
            Alert(severity: alert.severity, summary: alert.summary, place: [alert.subject, alert.host].filter { !$0.isEmpty }.joined(separator: " @ "),
                  since: DisplayText.ago(alert.firedAt, now: now))
        }
        hasProblems = !problems.isEmpty
        hasWorkers = !workers.isEmpty
        hasServices = !services.isEmpty
        hasBackups = !backups.isEmpty
        hasWal = !wal.isEmpty
        hasAlerts = !alerts.isEmpty
    }

    /// The WAL archive's state, one line per archiving server, repository, stream and spool.
    static func walLines(_ wal: WALArchiveStatus, now: Date) -> [Line] {
        var lines: [Line] = []
        for server in wal.servers {
            let archived = server.lastArchivedWAL.map { "last archived \($0) \(DisplayText.ago(server.lastArchivedSeconds.map { server.sampledAt.addingTimeInterval(-$0) }, now: now))" } ?? "nothing archived yet"
            let behind = server.behindSeconds.map { $0 > 0 ? "behind \(DisplayText.duration($0)) (\(Int(server.pendingSegments ?? 0)) segments wait)" : "not behind" } ?? "backlog unknown"
            lines.append(Line(level: server.failing ? "critical" : "ok",
                              text: "archive \(server.server)@\(server.host): \(archived), \(behind)\(server.failing ? ", failing at \(server.lastFailedWAL ?? "?")" : "")"))
        }
        for repository in wal.repositories {
            if let problem = repository.problem {
                lines.append(Line(level: "critical", text: "repository@\(repository.host): \(problem)"))
                continue
            }
            let gaps = Int(repository.gaps ?? 0)
            let newest = repository.newestAgeSeconds.map { "newest \(DisplayText.ago(repository.sampledAt.addingTimeInterval(-$0), now: now))" } ?? "empty"
            lines.append(Line(level: gaps == 0 ? "ok" : "critical",
                              text: "repository@\(repository.host): \(Int(repository.segments ?? 0)) segments, \(repository.bytes.map(DisplayText.bytes) ?? "?"), \(newest), \(gaps == 0 ? "no gap" : "\(gaps) gaps")"))
        }
        for stream in wal.streams {
            let state = stream.active == true ? "streaming" : (stream.active == false ? "not streaming" : "receiver unknown")
            lines.append(Line(level: stream.active == true && stream.moveError == nil ? "ok" : "warning",
                              text: "stream@\(stream.host): \(state)\(stream.problem.map { " (\($0))" } ?? "")\(stream.moveError.map { ", cannot store: \($0)" } ?? "")"))
        }
        for spool in wal.asyncSpools {
            let pending = spool.pending.map { "\(Int($0)) not stored yet" } ?? (spool.problem ?? "unknown")
            lines.append(Line(level: spool.failing ? "critical" : "ok",
                              text: "async spool@\(spool.host): \(pending)\(spool.lastError.map { ", last error: \($0)" } ?? "")"))
        }
        return lines
    }
}
