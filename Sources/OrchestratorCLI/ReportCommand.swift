import ArgumentParser
import Foundation
import History

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The daily or weekly summary from the stored history: resources, databases, services, maintenance runs, backups, alerts.",
        discussion: "daily covers the last 24 hours, weekly the last 7 days, up to now. Days whose raw samples were pruned come from health_daily."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "daily or weekly.")
    var period: PeriodReport.Period

    func run() async throws {
        let environment = try global.environment()
        try await reportingErrors {
            try await environment.withConnection { connection in
                let report = try await PeriodReport.load(period, configuration: environment.configuration, on: connection)
                if global.json { return try Output.printJSON(report) }
                print(ReportText.render(report))
            }
        }
    }
}

extension PeriodReport.Period: ExpressibleByArgument {}

/// The plain-text form of a report, section by section.
enum ReportText {
    static func render(_ report: PeriodReport) -> String {
        var out: [String] = ["orchestrator \(report.period.rawValue) report: \(Output.time(report.from)) to \(Output.time(report.until))"]
        func section(_ title: String, _ body: String) {
            out += ["", "== \(title) ==", body]
        }
        section("Resources", metrics(report.resources, empty: "no health samples in this period (schedule the health kind)"))
        section("Database", metrics(report.databases, empty: "no database samples in this period"))
        section("Services", services(report.services))
        section("Maintenance runs", runs(report.maintenance))
        section("Backups", backups(report.backups))
        section("Alerts", alerts(report.alerts))
        return out.joined(separator: "\n")
    }

    static func metrics(_ metrics: [PeriodReport.Metric], empty: String) -> String {
        guard !metrics.isEmpty else { return empty }
        return Output.table(
            ["HOST", "SUBJECT", "METRIC", "MIN", "AVG", "MAX", "NOW", "SAMPLES"],
            metrics.map { metric in
                let now = metric.latestStatus == "absent" ? "none" : HealthCommand.format(metric.latest, unit: metric.unit)
                return [metric.host, metric.subject, metric.metric, HealthCommand.format(metric.min, unit: metric.unit),
                        HealthCommand.format(metric.avg, unit: metric.unit), HealthCommand.format(metric.max, unit: metric.unit),
                        metric.count == 0 ? "none (\(metric.latestMessage ?? "absent"))" : now,
                        metric.failed > 0 ? "\(metric.count) (\(metric.failed) failed)" : String(metric.count)]
            }
        )
    }

    static func services(_ metrics: [PeriodReport.Metric]) -> String {
        guard !metrics.isEmpty else { return "no services or checks sampled in this period" }
        return Output.table(
            ["HOST", "SERVICE", "METRIC", "SAMPLES", "FAILED", "OK %", "NOW", "NOTE"],
            metrics.map { metric in
                let total = metric.samples
                let ok = total > 0 ? String(format: "%.1f", Double(total - metric.failed) / Double(total) * 100) : "-"
                return [metric.host, metric.subject, metric.metric, String(total), String(metric.failed), ok,
                        metric.latestStatus ?? "-", metric.latestMessage ?? HealthCommand.format(metric.latest, unit: metric.unit)]
            },
            maxWidth: 70
        )
    }

    static func runs(_ runs: [PeriodReport.Runs]) -> String {
        guard !runs.isEmpty else { return "no job runs in this period" }
        return Output.table(
            ["KIND", "RUNS", "OK", "FAILED", "TIMED OUT", "CANCELLED", "ABANDONED", "JOBS FAILED", "TOTAL", "LONGEST", "LAST ERROR"],
            runs.map { kind in
                [kind.kind, String(kind.runs), String(kind.succeeded), String(kind.failed), String(kind.timedOut), String(kind.cancelled),
                 String(kind.abandoned), String(kind.jobsFailed), HealthCommand.format(kind.totalSeconds, unit: "seconds"),
                 HealthCommand.format(kind.longestSeconds, unit: "seconds"), kind.lastError ?? ""]
            },
            maxWidth: 70
        )
    }

    static func backups(_ backups: [PeriodReport.Backups]) -> String {
        guard !backups.isEmpty else { return "no backup profiles configured and no backups in this period" }
        var text = Output.table(
            ["PROFILE", "MADE", "SIZE", "VERIFIED", "VERIFY FAILED", "DRILLS", "DRILLS FAILED", "NEWEST VERIFIED", "NEWEST DRILL"],
            backups.map { backup in
                [backup.profile, String(backup.made), HealthCommand.format(Double(backup.bytes), unit: "bytes"),
                 String(backup.verificationsPassed), String(backup.verificationsFailed), String(backup.drillsPassed),
                 String(backup.drillsFailed), Output.ago(backup.newestVerifiedAt), Output.ago(backup.newestDrillAt)]
            }
        )
        for warning in backups.flatMap(\.warnings) { text += "\nwarning: \(warning)" }
        return text
    }

    static func alerts(_ alerts: PeriodReport.Alerts) -> String {
        var text = "fired \(alerts.fired), resolved \(alerts.resolved), firing now \(alerts.firingNow)"
        guard !alerts.episodes.isEmpty else { return text }
        text += "\n" + Output.table(
            ["ID", "SEVERITY", "STATE", "ALERT", "HOST", "FIRED", "RESOLVED", "SUMMARY"],
            alerts.episodes.map { alert in
                [String(alert.id), alert.severity, alert.state, alert.subject.isEmpty ? alert.rule : "\(alert.rule):\(alert.subject)",
                 alert.host.isEmpty ? "-" : alert.host, Output.time(alert.firedAt), Output.time(alert.resolvedAt), alert.summary]
            },
            maxWidth: 90
        )
        return text
    }
}
