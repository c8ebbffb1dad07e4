import ArgumentParser
import Backups
import Foundation
import Kinds
import Logging
import PostgresClient
import Queue
import Runtime
import Support

struct BackupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backups",
        abstract: "List, inspect and verify backups. Make one with `orchestrator enqueue backup PROFILE` (or base-backup for a physical profile).",
        subcommands: [List.self, Show.self, Verify.self, Restore.self, Prune.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Backups in the catalog, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this profile.") var profile: String?
        @Flag(help: "Include deleted backups.") var all = false

        func run() async throws {
            let environment = try global.environment()
            try await reportingErrors {
                try await environment.withConnection { connection in
                    let backups = try await BackupCatalog.list(profile: profile, includeDeleted: all, on: connection)
                    let copies = Dictionary(grouping: try await BackupCopyCatalog.live(backupIDs: backups.map(\.id), on: connection), by: \.backupID)
                    if global.json { return try Output.printJSON(backups.map { ListedBackup(backup: $0, copies: copies[$0.id] ?? []) }) }
                    print(Output.table(
                        ["ID", "PROFILE", "METHOD", "LABEL", "FINISHED", "SIZE", "FILES", "VERIFIED", "STATUS", "COPIES"],
                        backups.map { backup in
                            ["\(backup.id)", backup.profile, backup.method.rawValue, backup.label, Output.time(backup.finishedAt),
                             ByteCountFormatter.string(fromByteCount: backup.bytes, countStyle: .binary), "\(backup.fileCount)",
                             Output.ago(backup.verifiedAt), backup.deletedAt == nil ? (backup.verifyStatus ?? "unverified") : "deleted",
                             ListedBackup(backup: backup, copies: copies[backup.id] ?? []).copiesText]
                        }
                    ))
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One backup: location, databases with row counts, files.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Backup id or 'latest'.") var backup: String

        func run() async throws {
            let environment = try global.environment()
            try await reportingErrors {
                try await environment.withConnection { connection in
                    guard let record = try await BackupCatalog.find(backup, on: connection) else {
                        printError("backup \(backup) not found")
                        throw ExitCodes.failure
                    }
                    guard let manifestText = try await BackupCatalog.manifestText(id: record.id, on: connection) else {
                        printError("backup \(backup) not found")
                        throw ExitCodes.failure
                    }
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
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Re-read every byte of a backup against its manifest; exit 1 naming the first bad file."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Backup id or 'latest'.") var backup: String
        @Option(help: "Verify the backup's copy in this remote repository (repositories:) instead of the local one, reading every byte back.")
        var repository: String?

        func run() async throws {
            let environment = try global.environment()
            try await reportingErrors {
                try await environment.withConnection { connection in
                    guard let record = try await BackupCatalog.find(backup, on: connection) else {
                        printError("backup \(backup) not found")
                        throw ExitCodes.failure
                    }
                    if let repository {
                        try await verifyCopy(of: record, in: repository, environment: environment, on: connection)
                        return
                    }
                    let started = Date()
                    do {
                        let report = try await BackupVerifier(logger: environment.logger, priority: environment.configuration.backups.priority)
                            .verify(directory: record.location, manifestSHA256: record.manifestSHA256)
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

        /// Reads the copy back from the repository and records the result on the copy.
        private func verifyCopy(of record: BackupRecord, in name: String, environment: CommandEnvironment, on connection: PostgresConnection) async throws {
            let repository = try RemoteRepository(named: name, in: environment.configuration)
            guard let copy = try await BackupCopyCatalog.find(backupID: record.id, repository: name, on: connection), copy.state != "deleted" else {
                printError("backup \(record.id) has no copy in \(name); copy it with: orchestrator enqueue copy-backup \(record.id) --arg repository=\(name)")
                throw ExitCodes.failure
            }
            guard copy.isPresent else {
                printError("backup \(record.id)'s copy in \(name) is not complete (\(copy.state)); its copy-backup job resumes it")
                throw ExitCodes.failure
            }
            let started = Date()
            let session = try repository.open()
            defer { session.close() }
            do {
                let report = try await RemoteBackupCheck.verify(copy, of: record, session: session)
                try await BackupCopyCatalog.recordVerification(copyID: copy.id, jobID: nil, startedAt: started, files: report.files, bytes: report.bytes, error: nil, on: connection)
                if global.json {
                    try Output.printJSON([
                        "id": "\(record.id)", "repository": name, "status": "passed", "files": "\(report.files)", "bytes": "\(report.bytes)",
                    ])
                } else {
                    print("backup \(record.id) in \(name): read back and verified \(report.files) files, \(report.bytes) bytes")
                }
            } catch let error as BackupError {
                try await BackupCopyCatalog.recordVerification(copyID: copy.id, jobID: nil, startedAt: started, files: 0, bytes: 0, error: error.description, on: connection)
                if global.json { try Output.printJSON(["id": "\(record.id)", "repository": name, "status": "failed", "error": error.description]) }
                printError("backup \(record.id)'s copy in \(name) failed verification: \(error)")
                throw ExitCodes.failure
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Restore a backup into a new database and/or its files under a directory (runs as a job on this host and waits).",
            discussion: "Example: orchestrator backups restore latest --database trading_restored --files-to /srv/restore"
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Backup id or 'latest'.") var backup: String
        @Option(help: "Database to create from template0.") var database: String?
        @Option(help: "Which database of the backup, when it holds several (with --database).") var source: String?
        @Option(help: "Absolute directory to extract the file sets into (never over live paths unless you name them).") var filesTo: String?
        @Flag(help: "Replace an existing database, swapping only after the restore succeeded (the old one is kept, renamed).") var replace = false
        @Flag(help: "Restore owners and grants (needs a superuser).") var keepOwners = false
        @Option(help: "Restore from the backup's copy in this remote repository (repositories:), fetched and verified first.") var from: String?

        func run() async throws {
            let environment = try global.environment()
            let request = RestoreJob.request(
                backup: backup, database: database, source: source, filesTo: filesTo, replace: replace, keepOwners: keepOwners, from: from,
                enqueuedBy: HostInfo.userAtHost
            )
            try await reportingErrors {
                let prepared = try JobKindRegistry.standard.prepare(request, configuration: environment.configuration, hostName: HostInfo.hostName)
                try await environment.withConnection { connection in
                    let job = try await JobQueue.enqueue(prepared, on: connection)
                    if !global.json { FileHandle.standardError.write(Data("restore job \(job.id) enqueued on \(prepared.queue); waiting for a worker on this host...\n".utf8)) }
                    let finished = try await JobQueue.waitUntilFinished(id: job.id, on: connection, poll: .milliseconds(500))
                    if global.json {
                        try Output.printJSON(finished)
                    } else {
                        print("\(finished.id) \(finished.state.rawValue)\(finished.lastError.map { ": \($0)" } ?? "")")
                    }
                    if finished.state != .succeeded { throw ExitCodes.failure }
                }
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "prune", abstract: "Apply each profile's retention now (it also runs after every backup).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this profile.") var profile: String?
        @Flag(help: "Show what would be deleted; delete nothing.") var dryRun = false

        func run() async throws {
            let environment = try global.environment()
            let profiles = environment.configuration.backups.profiles
            if let profile, profiles[profile] == nil {
                throw ValidationError("unknown profile \(profile.debugDescription); configured: \(profiles.keys.sorted().joined(separator: ", "))")
            }
            try await reportingErrors {
                try await environment.withConnection { connection in
                    var all: [BackupPruner.Deletion] = []
                    for (name, settings) in profiles.sorted(by: { $0.key < $1.key }) where profile == nil || profile == name {
                        all += try await BackupPruner(logger: environment.logger).prune(profile: name, policy: settings.retention, dryRun: dryRun, on: connection)
                    }
                    if global.json { return try Output.printJSON(all) }
                    if all.isEmpty { print("nothing to delete"); return }
                    for deletion in all { print("\(dryRun ? "would delete" : "deleted") \(deletion.id) \(deletion.label): \(deletion.reason)") }
                }
            }
        }
    }
}
