import ArgumentParser
import Foundation
import Scheduling

struct SchedulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedules",
        abstract: "Configured schedules with their last and next run."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let environment = try global.environment()
        try await reportingErrors {
            try await environment.withConnection { connection in
                let rows = try await ScheduleStatus.load(configuration: environment.configuration, on: connection)
                if global.json { return try Output.printJSON(rows) }
                if rows.isEmpty { print("no schedules configured (add them under schedules: in the configuration)"); return }
                print(Output.table(
                    ["NAME", "CRON", "ZONE", "JOB", "LAST", "OUTCOME", "JOB STATE", "NEXT", "LATE/MISSED \(ScheduleStatus.recentDays)D"],
                    rows.map { row in
                        [row.name, row.cron, row.timeZone, row.kind + (row.target.map { " \($0)" } ?? ""),
                         Output.time(row.lastScheduledFor), row.lastOutcome ?? "-", row.lastJobState?.rawValue ?? "-",
                         row.enabled ? Output.time(row.nextRun) : "disabled",
                         "\(row.recentLate)/\(row.recentMissed)" + (row.overdueSince.map { ", OVERDUE since \(Output.time($0))" } ?? "")]
                    }
                ))
            }
        }
    }
}
