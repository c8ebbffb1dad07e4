import ArgumentParser
import Database
import Foundation
import Queue
import Support

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations (safe to run concurrently and repeatedly)."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Directory of NNNN_name.sql files (default: installed or next to the binary).")
    var migrationsDir: String?

    @Flag(help: "Only list pending migrations; change nothing.")
    var status = false

    func run() async throws {
        let environment = try global.environment()
        try await reportingErrors {
            let directory = try MigrationDirectory.locate(explicit: migrationsDir)
            let migrator = try Migrator(directory: directory)
            try await environment.withConnection { connection in
                if status {
                    let pending = try await migrator.pending(connection).map(\.name)
                    if global.json {
                        try Output.printJSON(["pending": pending])
                    } else {
                        print(pending.isEmpty ? "schema is up to date" : "pending: " + pending.joined(separator: ", "))
                    }
                    return
                }
                let report = try await migrator.migrate(connection, appliedBy: HostInfo.userAtHost, logger: environment.logger)
                if global.json {
                    try Output.printJSON(["applied": report.applied])
                } else if report.applied.isEmpty {
                    print("schema is up to date (\(report.alreadyApplied) migrations applied earlier)")
                } else {
                    print("applied: " + report.applied.joined(separator: ", "))
                }
            }
        }
    }
}
