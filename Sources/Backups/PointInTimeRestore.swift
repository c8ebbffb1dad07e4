import Archiving
import Foundation
import Logging
import PostgresClient
import Settings
import Support

/// Restores the cluster as it was at a moment, a WAL position or the end of the archive: picks
/// the newest verified base backup that finished before the target, extracts it (every byte
/// checked, `BaseBackupExtractor`), adds recovery settings whose `restore_command` is
/// `orchestrator wal-get` on the WAL repository, starts it on its own port and socket, waits
/// until recovery reached the target and the copy is promoted, and reports the exact point
/// reached (last replayed WAL position and transaction time). A data directory this created
/// is removed again when anything fails before the server is up.
package struct PointInTimeRestore: Sendable {
    package struct Request: Sendable {
        package var target: RecoveryTarget
        package var dataDirectory: String
        package var port: Int
        /// Where the server's socket goes; default: the data directory's parent.
        package var socketDirectory: String?
        /// A given backup instead of the newest suitable one.
        package var backupID: Int64?
        package var profile: String?
        /// Stop the server once the point is reported (drills); otherwise it keeps running.
        package var stopAfter: Bool
        /// The server's user when this process runs as root (PostgreSQL refuses root).
        package var runAs: String?
        /// Longest wait for recovery to reach the target.
        package var timeoutSeconds: Int
        /// The role to connect as once promoted; nil: the profile's role, else `postgres`.
        package var user: String?
        /// Also run `pg_verifybackup` on the extracted directory before recovery starts (every
        /// file was already checked while extracted; this is PostgreSQL's own second opinion,
        /// including a parse of the WAL the backup holds).
        package var runPgVerifybackup = false
        /// The scratch server's priority (its processes inherit it): normal for a restore an
        /// operator waits for; a drill, routine work beside the application, runs at
        /// `backups.priority`.
        package var priority: ProcessPriority = .normal

        package init(
            target: RecoveryTarget, dataDirectory: String, port: Int, socketDirectory: String? = nil, backupID: Int64? = nil,
            profile: String? = nil, stopAfter: Bool = false, runAs: String? = nil, timeoutSeconds: Int = 24 * 3600, user: String? = nil
        ) {
            self.target = target
            self.dataDirectory = dataDirectory
            self.port = port
            self.socketDirectory = socketDirectory
            self.backupID = backupID
            self.profile = profile
            self.stopAfter = stopAfter
            self.runAs = runAs
            self.timeoutSeconds = timeoutSeconds
            self.user = user
        }
    }

    package struct Outcome: Sendable, Codable, Equatable {
        package let backupID: Int64
        package let backupLabel: String
        package let target: String
        /// The last WAL record replayed and the commit time of the last transaction replayed.
        package let reachedLSN: String?
        package let reachedTime: Date?
        package let timeline: Int32
        /// Seconds from the start of the restore until the copy answered queries (RTO).
        package let secondsToQueryable: Double
        package let extractSeconds: Double
        /// Time `pg_verifybackup` took on the extracted directory, when asked for.
        package let pgVerifybackupSeconds: Double?
        package let dataDirectory: String
        package let socketDirectory: String
        package let port: Int
        package let user: String
        package let running: Bool
    }

    let environment: BackupEnvironment
    /// The `orchestrator` binary PostgreSQL runs as `restore_command`.
    let executable: String

    package init(environment: BackupEnvironment, executable: String = PointInTimeRestore.currentExecutable) {
        self.environment = environment
        self.executable = executable
    }

    package static var currentExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    package func run(_ request: Request) async throws -> Outcome {
        let clock = ContinuousClock.now
        guard let repository = environment.configuration.walArchive?.repository else {
            throw BackupRequestError("wal_archive.repository is not set in the configuration: point-in-time restore reads WAL from the archive wal-push writes (add `wal_archive: {repository: DIR}`)")
        }
        let record = try await environment.withOrchestratorDatabase { connection in
            try await Self.chooseBackup(for: request, on: connection)
        }
        let manifest = try await BackupRestorer.manifest(of: record)
        guard let physical = manifest.physical else { throw BackupRequestError("backup \(record.id) is not physical") }
        try RepositoryCluster.require(physical.systemIdentifier, repository: repository, what: "backup \(record.id)")
        let dataDirectory = Self.absolute(request.dataDirectory)
        let socketDirectory = Self.absolute(request.socketDirectory ?? (dataDirectory as NSString).deletingLastPathComponent)
        guard (socketDirectory + "/.s.PGSQL.\(request.port)").utf8.count < 108 else {
            throw BackupRequestError("socket path \(socketDirectory)/.s.PGSQL.\(request.port) is longer than a Unix socket allows (107 bytes); pass a shorter --socket-dir")
        }
        try Self.prepareEmptyDirectory(dataDirectory)
        let server = try ScratchServer(
            dataDirectory: dataDirectory, socketDirectory: socketDirectory, port: request.port,
            serverVersion: physical.serverVersion, runAs: request.runAs, priority: request.priority
        )
        var started = false
        do {
            environment.logger.info("restoring base backup", metadata: [
                "backup.id": "\(record.id)", "backup.label": "\(record.label)", "pitr.target": "\(request.target)", "pitr.data_dir": "\(dataDirectory)",
            ])
            let extractClock = ContinuousClock.now
            let location = record.location
            let extracted = try await Archiver.run { try BaseBackupExtractor.extract(backup: location, manifest: manifest, into: dataDirectory) }
            let extractSeconds = (ContinuousClock.now - extractClock).seconds
            environment.logger.info("base backup extracted and checked", metadata: [
                "pitr.files": "\(extracted.files)", "pitr.bytes": "\(extracted.bytes)", "pitr.extract_s": "\(String(format: "%.2f", extractSeconds))",
            ])
            var toolSeconds: Double?
            if request.runPgVerifybackup {
                let clock = ContinuousClock.now
                try await Self.runPgVerifybackup(dataDirectory: dataDirectory, backup: location, serverVersion: physical.serverVersion)
                toolSeconds = (ContinuousClock.now - clock).seconds
            }
            try RecoveryConfiguration(
                dataDirectory: dataDirectory, socketDirectory: socketDirectory, port: request.port, target: request.target,
                executable: executable, repository: repository
            ).write()
            try FileManager.default.createDirectory(atPath: socketDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try server.handOver()
            started = true
            do {
                try await server.start()
            } catch {
                throw RecoveryFailure.explain(log: server.logTail(), target: request.target, underlying: error)
            }
            let user = request.user ?? Self.profileUser(record: record, environment: environment) ?? "postgres"
            let reached = try await Self.waitForPromotion(server, user: user, target: request.target, timeoutSeconds: request.timeoutSeconds)
            if request.target == .latest, let lsn = reached.lsn.flatMap(WALPosition.init), reached.timeline > 1,
               let gap = try ArchiveGapCheck.gap(after: lsn, timeline: UInt32(reached.timeline - 1), segmentSize: physical.walSegmentSize, repository: repository) {
                throw BackupError("recovery stopped at LSN \(lsn) because WAL segment \(gap.missing) is missing from the archive, which holds later WAL (up to \(gap.laterStored)): the archive has a gap; restore to a moment before it, or put the segment back")
            }
            let seconds = (ContinuousClock.now - clock).seconds
            if request.stopAfter { await server.stop() }
            return Outcome(
                backupID: record.id, backupLabel: record.label, target: request.target.description, reachedLSN: reached.lsn,
                reachedTime: reached.time, timeline: reached.timeline, secondsToQueryable: seconds, extractSeconds: extractSeconds, pgVerifybackupSeconds: toolSeconds,
                dataDirectory: dataDirectory, socketDirectory: socketDirectory, port: request.port, user: user, running: !request.stopAfter
            )
        } catch {
            // A restore that failed leaves nothing behind; the error carries the server log's cause.
            if started { await server.stop() }
            try? FileManager.default.removeItem(atPath: dataDirectory)
            throw error
        }
    }

    /// The given backup, or the newest verified physical backup that is consistent before the target.
    static func chooseBackup(for request: Request, on connection: PostgresConnection) async throws -> BackupRecord {
        if let id = request.backupID {
            guard let record = try await BackupCatalog.find(String(id), on: connection) else { throw BackupRequestError("no backup has id \(id)") }
            guard record.method == .physical else {
                throw BackupRequestError("backup \(id) is logical (pg_dump); point-in-time restore needs a physical base backup (a base-backup job of a method: physical profile)")
            }
            guard record.deletedAt == nil else { throw BackupRequestError("backup \(id) was deleted") }
            return record
        }
        let time: Date? = if case .time(let date) = request.target { date } else { nil }
        let position: String? = if case .position(let lsn) = request.target { lsn.description } else { nil }
        let rows = try await connection.query(
            """
            SELECT \(BackupRecord.columns) FROM orchestrator.backups
            WHERE method = 'physical' AND deleted_at IS NULL AND verify_status = 'passed'
              AND ($1::text IS NULL OR profile = $1)
              AND ($2::timestamptz IS NULL OR finished_at <= $2)
              AND ($3::pg_lsn IS NULL OR stop_lsn <= $3::pg_lsn)
            ORDER BY stop_lsn DESC, finished_at DESC LIMIT 1
            """,
            [request.profile, time, position]
        )
        if let row = rows.first { return try BackupRecord(row: row) }
        let earliest = try await connection.query(
            """
            SELECT min(finished_at) AS earliest, min(stop_lsn)::text AS lsn FROM orchestrator.backups
            WHERE method = 'physical' AND deleted_at IS NULL AND verify_status = 'passed' AND ($1::text IS NULL OR profile = $1)
            """,
            [request.profile]
        ).single()  // an aggregate returns one row
        guard let first: Date = try earliest.decodeIfPresent("earliest") else {
            throw BackupRequestError("no verified physical base backup\(request.profile.map { " of profile \($0)" } ?? "") exists; run `orchestrator enqueue base-backup PROFILE` first")
        }
        let lsn: String = try earliest.decodeIfPresent("lsn") ?? "?"
        throw BackupRequestError("\(request.target) is before the oldest base backup; the earliest point that can be restored is \(RecoveryTarget.postgresTimestamp(first)) (LSN \(lsn))")
    }

    /// PostgreSQL's own check of the extracted copy against `backup_manifest` (which stays in
    /// the backup), before any recovery setting changes a file; or of a plain backup's copy in
    /// place. `skipChecksums` when every file was just hashed against the manifest anyway.
    static func runPgVerifybackup(
        dataDirectory: String, backup: String, serverVersion: String, skipChecksums: Bool = false, what: String = "the restored copy"
    ) async throws {
        guard let tool = ChildProcess.locate("pg_verifybackup", postgresMajor: serverVersion) else {
            throw BackupRequestError("pg_verifybackup not found; install the PostgreSQL client package of the backup's version (\(serverVersion))")
        }
        do {
            try await ChildProcess.run(
                tool, ["--quiet", "--exit-on-error", "--manifest-path=\(backup)/\(PostgresBackupManifest.fileName)"] + (skipChecksums ? ["--skip-checksums"] : []) + [dataDirectory]
            )
        } catch let failure as ChildProcess.Failure {
            throw BackupError("pg_verifybackup rejected \(what): \(failure)")
        }
    }

    /// With `hot_standby = off` the server accepts connections only once recovery reached its
    /// target and the copy is promoted: the first successful connection is the moment the copy
    /// became queryable. A server that stops meanwhile failed recovery; its log says why.
    private static func waitForPromotion(_ server: ScratchServer, user: String, target: RecoveryTarget, timeoutSeconds: Int) async throws -> (lsn: String?, time: Date?, timeline: Int32) {
        let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
        while true {
            do {
                return try await readReachedPoint(socketDirectory: server.socketDirectory, port: server.port, user: user)
            } catch let error as PostgresError {
                guard server.isRunning else {
                    throw RecoveryFailure.explain(log: server.logTail(), target: target, underlying: error)
                }
                guard ContinuousClock.now < deadline else {
                    throw BackupError("recovery did not finish within \(timeoutSeconds) s; the server log ends with:\n\(server.logTail(maxBytes: 2000))")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private static func readReachedPoint(socketDirectory: String, port: Int, user: String) async throws -> (lsn: String?, time: Date?, timeline: Int32) {
        let session = try await PostgresConnection.connect(
            copyConnection(socketDirectory: socketDirectory, port: port, user: user, database: "postgres", applicationName: "orchestrator-pitr")
        )
        defer { session.close() }
        let row = try await session.query(
            """
            SELECT pg_last_wal_replay_lsn()::text AS lsn, pg_last_xact_replay_timestamp() AS time,
                   (SELECT timeline_id FROM pg_control_checkpoint()) AS timeline
            """
        ).single()
        return (try row.decodeIfPresent("lsn"), try row.decodeIfPresent("time"), try row.decode("timeline"))
    }

    private static func profileUser(record: BackupRecord, environment: BackupEnvironment) -> String? {
        guard let key = environment.configuration.backups.profiles[record.profile]?.database,
              let configuration = try? environment.connectionConfiguration(forDatabase: key) else { return nil }
        return configuration.redactedParameters["user"]
    }

    /// A connection to a restored copy over its private socket.
    static func copyConnection(socketDirectory: String, port: Int, user: String, database: String, applicationName: String) -> ConnectionConfiguration {
        ConnectionConfiguration(
            connectionString: "dbname=\(conninfoQuoted(database)) host=\(conninfoQuoted(socketDirectory)) port=\(port) user=\(conninfoQuoted(user))",
            applicationName: applicationName
        )
    }

    /// A conninfo value in single quotes, as libpq parses it.
    private static func conninfoQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The data directory must not hold anything: a restore never overwrites a cluster.
    static func prepareEmptyDirectory(_ path: String) throws {
        if let contents = try? FileManager.default.contentsOfDirectory(atPath: path) {
            guard contents.isEmpty else {
                throw BackupRequestError("\(path) is not empty; point-in-time restore writes only into a new or empty directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BackupRequestError("cannot create \(path): \(error.localizedDescription)")
        }
    }
}
