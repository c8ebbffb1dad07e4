import Alerts
import ArgumentParser
import Foundation

extension AlertsCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Alerts firing now (orchestrator.open_alerts); --all includes resolved ones.",
            discussion: "Firing alerts first, critical before warning, newest first."
        )
        @OptionGroup var global: GlobalOptions

        @Flag(name: .long, help: "Include resolved alerts.")
        var all = false

        @Option(name: .long, help: "At most this many alerts (1-10000).")
        var limit = 100

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1...10000, got \(limit)") }
        }

        func run() async throws {
            let environment = try global.environment()
            try await reportingErrors {
                try await environment.withConnection { connection in
                    let alerts = try await AlertRecord.load(all: all, limit: limit, on: connection)
                    if global.json { return try Output.printJSON(alerts) }
                    if alerts.isEmpty {
                        print(all ? "no alerts recorded" : "no alerts firing")
                        return
                    }
                    print(Output.table(
                        ["ID", "SEVERITY", "STATE", "ALERT", "HOST", "FIRED", "SENT", "RESOLVED", "SUMMARY"],
                        alerts.map { alert in
                            [String(alert.id), alert.severity, alert.state, alert.subject.isEmpty ? alert.rule : "\(alert.rule):\(alert.subject)",
                             alert.host.isEmpty ? "-" : alert.host, Output.ago(alert.firedAt),
                             alert.failedDeliveries > 0 ? "\(alert.notifications) (\(alert.failedDeliveries) failed)" : String(alert.notifications),
                             Output.ago(alert.resolvedAt), alert.summary]
                        },
                        maxWidth: 90
                    ))
                }
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Evaluate the built-in alerts now (like the check-alerts job) and send what is due.",
            discussion: """
                Failed jobs, overdue schedules, silent workers, stale backups and drills. Useful from a \
                system timer on another host as a check that does not depend on a worker running.
                """
        )
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let environment = try global.environment()
            try await reportingErrors {
                try await environment.withConnection { connection in
                    let report = try await AlertEvaluator(configuration: environment.configuration, logger: environment.logger)
                        .checkBuiltin(on: connection)
                    if global.json { return try Output.printJSON(report) }
                    print("built-in alerts firing: \(report.firing)")
                    for notice in report.notices { print("sent: \(notice)") }
                    for failure in report.undelivered { print("not delivered: \(failure)") }
                }
            }
        }
    }
}
