import ArgumentParser
import Foundation
import Kinds
import Maintenance
import Settings

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Inspect the configuration.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate the configuration file; exit 78 with every problem listed when invalid.")
        @OptionGroup var global: GlobalOptions

        @Flag(help: "Also check against the databases: retention tables, columns and keys, and the privileges each scheduled job needs.")
        var databases = false

        func run() async throws {
            let environment = try global.environment()
            let configuration = environment.configuration
            if databases {
                let problems = await DatabaseChecks.run(configuration: configuration, connector: environment.connector)
                if !problems.isEmpty {
                    FileHandle.standardError.write(Data(("error: " + ConfigurationErrors(file: environment.configPath ?? "(defaults)", errors: problems).description + "\n").utf8))
                    throw ExitCodes.configuration
                }
            }
            // Channels are built once (nothing is sent): every secret must be present and readable.
            let alertProblems = configuration.alerts.checkSecrets()
            if !alertProblems.isEmpty {
                FileHandle.standardError.write(Data(("error: " + ConfigurationErrors(file: environment.configPath ?? "(defaults)", errors: alertProblems).description + "\n").utf8))
                throw ExitCodes.configuration
            }
            if global.json {
                try Output.printJSON([
                    "file": environment.configPath ?? "(built-in defaults)",
                    "valid": "true",
                    "schedules": "\(configuration.schedules.count)",
                    "statements": "\(configuration.statements.count)",
                    "databases": "\(configuration.databases.count)",
                    "alert_channels": "\(configuration.alerts.channels.count)",
                ])
                return
            }
            print("\(environment.configPath ?? "no configuration file found; built-in defaults"): OK")
            print("  database: \(environment.connector.orchestrator) (from \(configuration.database.urlFile.map { "file \($0)" } ?? "$\(configuration.database.urlEnv), else PG* variables"))")
            print("  worker: concurrency \(configuration.worker.concurrency), queues \(configuration.worker.queues.joined(separator: ",")), lease \(configuration.worker.leaseSeconds)s")
            print("  \(configuration.databases.count) databases, \(configuration.statements.count) statements, \(configuration.schedules.count) schedules")
            if !configuration.alerts.channels.isEmpty {
                let channels = configuration.alerts.channels.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value.type))" }
                print("  alert channels: \(channels.joined(separator: ", "))")
            }
        }
    }
}
