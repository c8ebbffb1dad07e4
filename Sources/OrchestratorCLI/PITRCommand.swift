import ArgumentParser
import Backups
import Foundation
import PostgresClient

struct PITRCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pitr",
        abstract: "Point-in-time recovery from physical base backups and the WAL archive.",
        subcommands: [Restore.self, Window.self]
    )

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Restore the cluster as it was at a moment into a new data directory, start it on its own port and report the point reached.",
            discussion: """
                Picks the newest verified base backup that finished before the target, checks every file while extracting it, \
                recovers through `wal-get` from wal_archive.repository, and leaves the server running (or stops it with --stop). \
                The copy never archives, listens only on a Unix socket (in --socket-dir, default: the data directory's parent) and \
                trusts local connections; its settings are in a marked block of postgresql.auto.conf.
                Example: orchestrator pitr restore --to '2026-11-30 09:41:00+01' --data-dir /srv/pitr/data --port 5499
                """
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "Recover up to this moment (any timestamp PostgreSQL reads, e.g. '2026-11-30 09:41:00+01').") var to: String?
        @Option(name: .customLong("to-lsn"), help: "Recover up to this WAL position (e.g. 0/3000148).") var toLSN: String?
        @Flag(help: "Recover everything the archive holds.") var latest = false
        @Option(help: "New or empty directory for the restored cluster.") var dataDir: String
        @Option(help: "Port of the restored server (its Unix socket name; no TCP listener).") var port: Int = 5433
        @Option(help: "Directory for the server's Unix socket (default: the data directory's parent).") var socketDir: String?
        @Option(help: "Restore this base backup instead of the newest suitable one.") var backup: Int64?
        @Option(help: "Only consider base backups of this profile.") var profile: String?
        @Option(help: "As root: the user the server runs as (PostgreSQL refuses root).") var runAs: String = "postgres"
        @Option(help: "Give up when recovery has not finished after this many seconds.") var timeout: Int = 24 * 3600
        @Flag(help: "Stop the server after reporting (the data directory stays).") var stop = false
        @Flag(help: "Also run pg_verifybackup on the extracted copy before recovery (every file is checked while extracted anyway).") var pgVerifybackup = false

        func validate() throws {
            let targets = [to != nil, toLSN != nil, latest].filter { $0 }.count
            guard targets == 1 else { throw ValidationError("give exactly one of --to TIME, --to-lsn LSN, --latest") }
            if let toLSN, WALPosition(toLSN) == nil { throw ValidationError("--to-lsn \(toLSN.debugDescription) is not a WAL position like 0/3000148") }
            guard (1...65535).contains(port) else { throw ValidationError("--port must be 1...65535") }
        }

        func run() async throws {
            let environment = try global.environment()
            try await reportingErrors {
                let target: RecoveryTarget
                if let to {
                    // PostgreSQL reads the timestamp, so every format and time zone it accepts works here.
                    target = .time(try await environment.withConnection { connection in
                        do {
                            return try await connection.query("SELECT $1::timestamptz AS t", [to]).single().decode("t")
                        } catch let error as PostgresError {
                            throw ValidationError("--to \(to.debugDescription) is not a timestamp: \(error)")
                        }
                    })
                } else if let toLSN, let position = WALPosition(toLSN) {
                    target = .position(position)
                } else {
                    target = .latest
                }
                var request = PointInTimeRestore.Request(
                    target: target, dataDirectory: dataDir, port: port, socketDirectory: socketDir, backupID: backup, profile: profile,
                    stopAfter: stop, runAs: runAs, timeoutSeconds: timeout
                )
                request.runPgVerifybackup = pgVerifybackup
                let restore = PointInTimeRestore(environment: .init(logger: environment.logger, configuration: environment.configuration, connector: environment.connector))
                let outcome = try await restore.run(request)
                if global.json {
                    try Output.printJSON(outcome)
                    return
                }
                print("restored base backup \(outcome.backupID) (\(outcome.backupLabel)) to \(outcome.target)")
                print("reached: LSN \(outcome.reachedLSN ?? "-"), last transaction \(outcome.reachedTime.map { RecoveryTarget.time($0).description } ?? "none replayed"), timeline \(outcome.timeline)")
                print(String(format: "queryable after %.1f s (extract and check %.1f s)", outcome.secondsToQueryable, outcome.extractSeconds))
                if outcome.running {
                    print("running: psql \"host=\(outcome.socketDirectory) port=\(outcome.port) user=\(outcome.user) dbname=postgres\"")
                    print("stop it: pg_ctl -D \(outcome.dataDirectory) stop\(getuid() == 0 ? " (as \(runAs))" : "")")
                }
            }
        }
    }
}

extension PITRCommand {
    struct Window: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "window",
            abstract: "What point-in-time restore can reach: from the oldest verified base backup to the newest archived WAL; exit 1 with a gap or no base backup."
        )
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let environment = try global.environment()
            try await reportingErrors {
                guard let repository = environment.configuration.walArchive?.repository else {
                    printError("wal_archive.repository is not set in the configuration")
                    throw ExitCodes.configuration
                }
                let window = try await environment.withConnection { try await RecoveryWindow.read(repository: repository, on: $0) }
                if global.json {
                    try Output.printJSON(window)
                } else if let earliest = window.earliest {
                    print("recoverable from \(RecoveryTarget.time(earliest)) (base backup \(window.oldestBackupID ?? 0)) to about \(window.latestArchived.map { RecoveryTarget.time($0).description } ?? "-") (newest archived WAL, \(Output.ago(window.latestArchived)))")
                    print("\(window.backups) verified base backups, newest \(window.newestBackupAt.map { RecoveryTarget.time($0).description } ?? "-") (id \(window.newestBackupID ?? 0)); \(window.segments) archived segments")
                    for gap in window.gaps {
                        print("gap \(gap): moments after it need a base backup taken after it")
                    }
                } else {
                    print("no verified physical base backup: nothing can be restored to a moment yet (enqueue base-backup PROFILE)")
                }
                if window.earliest == nil || !window.gaps.isEmpty { throw ExitCodes.failure }
            }
        }
    }
}
