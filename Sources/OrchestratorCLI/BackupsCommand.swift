import ArgumentParser
import Foundation
import Logging
import OrchestratorCore

struct BackupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backups",
        abstract: "List, inspect and verify backups. Make one with `orchestrator enqueue backup PROFILE`.",
        subcommands: [List.self, Show.self, Verify.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Backups in the catalog, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this profile.") var profile: String?
        @Flag(help: "Include deleted backups.") var all = false

        func run() async throws {
            let environment = try global.environment()
            try await reportingErrors {
                let connection = try await environment.connect()
                defer { connection.close() }
                let backups = try await BackupCatalog.list(profile: profile, includeDeleted: all, on: connection)
                if global.json { return try Output.printJSON(backups) }
                print(Output.table(
                    ["ID", "PROFILE", "LABEL", "FINISHED", "SIZE", "FILES", "VERIFIED", "STATUS"],
                    backups.map { backup in
                        ["\(backup.id)", backup.profile, backup.label, Output.time(backup.finishedAt),
                         ByteCountFormatter.string(fromByteCount: backup.bytes, countStyle: .binary), "\(backup.fileCount)",
                         Output.ago(backup.verifiedAt), backup.deletedAt == nil ? (backup.verifyStatus ?? "unverified") : "deleted"]
                    }
                ))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One backup: location, databases with row counts, files.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Backup id or 'latest'.") var backup: String

        func run() async throws {
            let environment = try global.environment()
            try await reportingErrors {
                let connection = try await environment.connect()
                defer { connection.close() }
                guard let record = try await BackupCatalog.find(backup, on: connection) else {
                    printError("backup \(backup) not found")
                    throw ExitCodes.failure
                }
                let manifestText: String = try await connection.query(
                    "SELECT manifest::text AS manifest FROM orchestrator.backups WHERE id = $1", [record.id]
                ).first!.decode("manifest")  // the row was just found
                if global.json { print(manifestText); return }
                let manifest = try BackupManifest.decode(Data(manifestText.utf8))
                print("backup \(record.id) \(record.profile)/\(record.label) at \(record.location) on \(record.host)")
                print("  finished \(Output.time(record.finishedAt)), \(ByteCountFormatter.string(fromByteCount: record.bytes, countStyle: .binary)) in \(record.fileCount) files")
                print("  verification: \(record.verifyStatus ?? "never") \(Output.ago(record.verifiedAt))\(record.verifyError.map { ": \($0)" } ?? "")")
                for database in manifest.databases {
                    print("  database \(database.name) (\(database.dbname)), server \(database.serverVersion), snapshot \(Output.time(database.snapshotTime))")
                    for table in database.tables { print("    \(table.schema).\(table.table): \(table.rows) rows") }
                }
                for set in manifest.fileSets {
                    print("  files \(set.archive): \(set.entries) entries, \(set.bytes) bytes from \(set.paths.joined(separator: ", "))")
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-read every byte of a backup against its manifest; exit 1 naming the first bad file."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Backup id or 'latest'.") var backup: String

        func run() async throws {
            let environment = try global.environment()
            try await reportingErrors {
                let connection = try await environment.connect()
                defer { connection.close() }
                guard let record = try await BackupCatalog.find(backup, on: connection) else {
                    printError("backup \(backup) not found")
                    throw ExitCodes.failure
                }
                let started = Date()
                do {
                    let report = try await BackupVerifier(logger: environment.logger).verify(directory: record.location, manifestSHA256: record.manifestSHA256)
                    try await BackupCatalog.recordVerification(backupID: record.id, jobID: nil, startedAt: started, report: report, error: nil, on: connection)
                    if global.json {
                        try Output.printJSON(["id": "\(record.id)", "status": "passed", "files": "\(report.files)", "bytes": "\(report.bytes)"])
                    } else {
                        print("backup \(record.id): verified \(report.files) files, \(report.bytes) bytes")
                    }
                } catch let error as BackupError {
                    try await BackupCatalog.recordVerification(backupID: record.id, jobID: nil, startedAt: started, report: nil, error: error.description, on: connection)
                    if global.json { try Output.printJSON(["id": "\(record.id)", "status": "failed", "error": error.description]) }
                    printError("backup \(record.id) failed verification: \(error)")
                    throw ExitCodes.failure
                }
            }
        }
    }
}
