import Alerts
import ArgumentParser
import Foundation
import Health
import Support

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Sample this host, the databases, services and checks now; store the run and print it.",
        discussion: """
            Samples what the health: section configures (the same as the health job). Failed checks are \
            shown, not an error: the exit code is 0 when sampling ran. A stored run is checked against the \
            alert thresholds and the built-in alerts, which are sent like the health job's. With --no-store \
            nothing is written and the orchestrator's database is not needed (transactions per second are then unknown).
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(name: .customLong("no-store"), help: "Print only; do not record the run in orchestrator.health_samples.")
    var noStore = false

    struct Report: Encodable {
        let runID: Int64?
        let run: HealthRun
        let alerts: JSONValue?
    }

    func run() async throws {
        let environment = try global.environment()
        try await reportingErrors {
            let sampler = HealthSampler(configuration: environment.configuration, connector: environment.connector, logger: environment.logger)
            var runID: Int64?
            var alerts: JSONValue?
            let run: HealthRun
            if noStore {
                run = try await sampler.sample(orchestrator: nil)
            } else {
                let stored = try await environment.withConnection { connection in
                    let run = try await sampler.sample(orchestrator: connection)
                    let runID = try await HealthStore.store(run, jobID: nil, on: connection)
                    let alerts = await AlertEvaluator(configuration: environment.configuration, logger: environment.logger)
                        .afterHealthRunLoggingErrors(run, on: connection)
                    return (run: run, runID: runID, alerts: alerts)
                }
                (run, runID, alerts) = (stored.run, stored.runID, stored.alerts)
            }
            if global.json { return try Output.printJSON(Report(runID: runID, run: run, alerts: alerts)) }
            print("\(run.host) at \(Output.time(run.takenAt)): \(run.samples.count) samples, \(run.failed.count) failed, "
                  + String(format: "%.0f ms (database %.1f ms)", run.durationMs, run.databaseMs)
                  + (runID.map { ", stored as run \($0)" } ?? ", not stored"))
            print(Output.table(
                ["CATEGORY", "SUBJECT", "METRIC", "VALUE", "STATUS", "NOTE"],
                run.samples.map { sample in
                    [sample.category.rawValue, sample.subject, sample.metric, Self.format(sample.value, unit: sample.unit),
                     sample.status.rawValue, sample.message ?? ""]
                },
                maxWidth: 70
            ))
        }
    }

    static func format(_ value: Double?, unit: String?) -> String {
        guard let value else { return "-" }
        switch unit {
        case "percent": return String(format: "%.1f%%", value)
        case "bytes": return ByteCountFormatter.string(fromByteCount: Int64(value), countStyle: .binary)
        case "seconds": return value >= 3600 ? String(format: "%.1f h", value / 3600) : String(format: "%.1f s", value)
        case "milliseconds": return String(format: "%.1f ms", value)
        case "celsius": return String(format: "%.1f °C", value)
        case "boolean": return value == 1 ? "yes" : "no"
        case "per_second": return String(format: "%.2f/s", value)
        default:
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3f", value)
        }
    }
}
