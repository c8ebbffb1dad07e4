import Alerts
import ArgumentParser
import Backups
import Foundation
import Queue

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Workers alive, queued and running jobs, jobs finished in the last 24 hours, oldest queued job, failures in the last 24 hours, backup freshness, firing alerts."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let environment = try global.environment()
        try await reportingErrors {
            try await environment.withConnection { connection in
                let status = try await QueueStatus.load(on: connection, aliveWithin: max(120, environment.configuration.worker.leaseSeconds * 2))
                let backups = try await BackupFreshness.load(configuration: environment.configuration, on: connection)
                let alerts = try await AlertRecord.load(all: false, limit: 20, on: connection)
                if global.json { return try Output.printJSON(StatusReport(queue: status, backups: backups, alerts: alerts)) }
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

struct StatusReport: Encodable {
    let queue: QueueStatus
    let backups: [BackupFreshness]
    /// Firing alerts, most severe first (at most 20).
    let alerts: [AlertRecord]
}
