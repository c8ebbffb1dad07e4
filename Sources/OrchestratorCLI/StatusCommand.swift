import Alerts
import ArgumentParser
import Backups
import Foundation
import Health
import Queue

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Workers alive, queued and running jobs, jobs finished in the last 24 hours, oldest queued job, failures in the last 24 hours, backup freshness, WAL archive, stream and spool health, firing alerts."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let environment = try global.environment()
        try await reportingErrors {
            try await environment.withConnection { connection in
                let status = try await QueueStatus.load(on: connection, aliveWithin: max(120, environment.configuration.worker.leaseSeconds * 2))
                let backups = try await BackupFreshness.load(configuration: environment.configuration, on: connection)
                let alerts = try await AlertRecord.load(all: false, limit: 20, on: connection)
                let wal = try await WALArchiveStatus.load(on: connection)
                if global.json { return try Output.printJSON(StatusReport(queue: status, backups: backups, walArchive: wal, alerts: alerts)) }
                print("database: \(environment.connector.orchestrator)  schema version: \(status.schemaVersion.map(String.init) ?? "none")")
                print("workers alive: \(status.workersAlive.count)")
                for worker in status.workersAlive {
                    print("  \(worker.id)  queues=\(worker.queues.joined(separator: ","))  running \(worker.runningJobs)/\(worker.concurrency)  heartbeat \(Output.ago(worker.heartbeatAt))  v\(worker.version)")
                }
                let finished = JobState.allCases.filter(\.isFinished).map { "\($0.rawValue) \(status.finishedLast24h[$0.rawValue] ?? 0)" }.joined(separator: ", ")
                print("jobs: queued \(status.jobsByState[JobState.queued.rawValue] ?? 0), running \(status.jobsByState[JobState.running.rawValue] ?? 0); finished in the last 24 h: \(finished)")
                print("oldest queued: \(Output.ago(status.oldestQueuedAt))\(status.oldestRunnableWaitSeconds.map { String(format: " (runnable for %.0fs)", $0) } ?? "")")
                print("failed runs in the last 24 h: \(status.failedLast24h)")
                for profile in backups {
                    print("backups \(profile.profile): verified \(Output.ago(profile.newestVerifiedAt)), drill \(Output.ago(profile.newestDrillAt))")
                    for warning in profile.warnings { print("warning: \(warning)") }
                }
                for line in Self.lines(wal, configured: environment.configuration.walArchive != nil,
                                       streaming: environment.configuration.walStream != nil) { print(line) }
                print("alerts firing: \(alerts.count == 20 ? "20 or more" : String(alerts.count))\(alerts.isEmpty ? "" : " (orchestrator alerts list)")")
                for alert in alerts {
                    print("  [\(alert.severity)] \(alert.summary)  since \(Output.ago(alert.firedAt))")
                }
                if status.workersAlive.isEmpty && (status.jobsByState[JobState.queued.rawValue] ?? 0) > 0 {
                    print("warning: jobs are queued but no worker is alive; start one with `orchestrator worker`")
                }
            }
        }
    }
}

extension StatusCommand {
    /// The WAL archive's lines: per archiving server and per repository, then warnings.
    static func lines(_ wal: WALArchiveStatus, configured: Bool, streaming: Bool = false) -> [String] {
        var lines: [String] = []
        var warnings: [String] = []
        for server in wal.servers {
            // Ages were measured when the sample was taken.
            let archived = server.lastArchivedWAL.map { "last archived \($0) \(Output.ago(server.lastArchivedSeconds.map { server.sampledAt.addingTimeInterval(-$0) }))" } ?? "nothing archived yet"
            let behind = server.behindSeconds.map { $0 > 0 ? "behind \(Int($0 / 60)) min (\(Int(server.pendingSegments ?? 0)) segments wait)" : "not behind" } ?? "backlog unknown"
            lines.append("wal archive \(server.server)@\(server.host): \(archived), \(behind), failed \(Int(server.failedTotal ?? 0)) times")
            if server.failing { warnings.append("warning: archiving failing: \(server.lastFailedWAL ?? "?") (\(server.server)@\(server.host))") }
        }
        for repository in wal.repositories {
            if let problem = repository.problem {
                lines.append("wal repository@\(repository.host): \(problem)")
                continue
            }
            let size = repository.bytes.map { String(format: "%.1f MB", $0 / 1_048_576) } ?? "?"
            let newest = repository.newestAgeSeconds.map { "newest \(Output.ago(repository.sampledAt.addingTimeInterval(-$0)))" } ?? "empty"
            let gaps = Int(repository.gaps ?? 0)
            lines.append("wal repository@\(repository.host): \(Int(repository.timelines ?? 0)) timelines, \(Int(repository.segments ?? 0)) segments, \(size), \(newest), \(gaps == 0 ? "no gap" : "\(gaps) gaps")")
            warnings += repository.gapLines.map { "warning: \($0)" }
        }
        for stream in wal.streams {
            let slot = stream.slot ?? "?"
            var parts: [String]
            switch stream.active {
            case true?: parts = ["streaming (slot \(slot))"]
            case false?: parts = ["NOT streaming (slot \(slot))"]
            case nil: parts = ["receiver unknown"]
            }
            if let behind = stream.behindBytes { parts.append("behind \(Self.megabytes(behind))") }
            if let retained = stream.retainedBytes { parts.append("slot keeps \(Self.megabytes(retained))\(stream.walStatus.map { " (\($0))" } ?? "")") }
            if let waiting = stream.spoolWaiting {
                let oldest = (stream.spoolOldestSeconds ?? 0) > 0 ? ", oldest \(Int((stream.spoolOldestSeconds ?? 0) / 60)) min" : ""
                parts.append("spool \(Int(waiting)) waiting\(oldest)")
            }
            lines.append("wal stream@\(stream.host): \(parts.joined(separator: ", "))")
            if stream.active != true, let problem = stream.problem { warnings.append("warning: wal stream@\(stream.host): \(problem)") }
            if let error = stream.moveError { warnings.append("warning: streamed WAL cannot be stored (\(stream.host)): \(error)") }
        }
        if streaming {
            if let lock = wal.streamLock {
                lines.append("wal stream lock: held by \(lock.holder.flatMap { $0.isEmpty ? nil : $0 } ?? "an unnamed session") (backend pid \(lock.pid)), connected \(Output.ago(lock.connectedAt))")
            } else {
                lines.append("wal stream lock: free (no worker streams; is a worker running with wal_stream?)")
            }
        }
        for spool in wal.asyncSpools {
            var parts = [spool.pusherRunning.map { $0 ? "pusher running" : "pusher idle" } ?? "pusher unknown"]
            if let pending = spool.pending {
                let oldest = pending > 0 ? " (oldest \(spool.oldestPending ?? "?"), waiting \(Int((spool.oldestPendingSeconds ?? 0) / 60)) min)" : ""
                parts.append("\(Int(pending)) not stored yet\(oldest)")
            } else if let problem = spool.problem {
                parts.append(problem)
            }
            if let error = spool.lastError { parts.append("last error: \(error)") }
            lines.append("wal async spool@\(spool.host): \(parts.joined(separator: ", "))")
            if spool.failing { warnings.append("warning: asynchronous archiving failing (\(spool.host)): \(spool.problem ?? "see the spool's .error files")") }
        }
        if configured && wal.servers.isEmpty && wal.repositories.isEmpty {
            lines.append("wal archive: no health sample yet (run the health kind on the archiving host)")
        }
        return lines + warnings
    }

    static func megabytes(_ bytes: Double) -> String {
        String(format: "%.1f MB", bytes / 1_048_576)
    }
}

struct StatusReport: Encodable {
    let queue: QueueStatus
    let backups: [BackupFreshness]
    let walArchive: WALArchiveStatus
    /// Firing alerts, most severe first (at most 20).
    let alerts: [AlertRecord]

    enum CodingKeys: String, CodingKey {
        case queue, backups, walArchive = "wal_archive", alerts
    }
}
