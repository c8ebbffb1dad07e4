import Archiving
import Foundation
import Logging
import PostgresClient
import Settings
import WALArchive

/// Proves point-in-time recovery works: restores the cluster to a random moment inside the
/// archive window (or to the end of the archive) into a scratch directory, checks that the
/// restored copy holds exactly the recovery markers written before that moment, measures the
/// time until it answered (RTO) and the data the point reached leaves out (RPO), records the
/// drill, and always stops and deletes the scratch cluster — also one left by a drill that was
/// killed: each drill directory carries a lock its drill holds, and the next drill removes any
/// whose lock is free.
package struct PointInTimeDrill: Sendable {
    package enum Mode: String, Sendable, CaseIterable {
        case random, latest
    }

    package struct Outcome: Sendable, Codable, Equatable {
        package let backupID: Int64?
        package let passed: Bool
        package let target: Date?
        package let reachedTime: Date?
        package let reachedLSN: String?
        package let rtoSeconds: Double?
        package let rpoSeconds: Double?
        /// Nil when the orchestrator's database is not in the restored cluster (nothing to compare).
        package let markersExpected: Int?
        package let markersFound: Int?
        package let error: String?
        /// The drill's `pg_verifybackup` pass over the extracted copy (not counted in the RTO).
        package var pgVerifybackupSeconds: Double?
    }

    /// How far back from the target markers are compared.
    static let markerWindow: TimeInterval = 2 * 3600
    /// A target closer than this to a marker is moved: its commit may land on either side.
    static let markerMargin: TimeInterval = 1

    let environment: BackupEnvironment
    let executable: String

    package init(environment: BackupEnvironment, executable: String = PointInTimeRestore.currentExecutable) {
        self.environment = environment
        self.executable = executable
    }

    package func run(profile: String?, mode: Mode, jobID: Int64?) async throws -> Outcome {
        let started = Date()
        let settings = environment.configuration.backups
        guard let repository = environment.configuration.walArchive?.repository else {
            throw BackupRequestError("wal_archive.repository is not set in the configuration; a point-in-time drill restores from the WAL archive")
        }
        let root = settings.drillDirectory
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        await removeLeftovers(in: root)
        let directory = root + "/drill-" + (jobID.map(String.init) ?? UUID().uuidString.prefix(8).lowercased())
        guard let lock = try await Archiver.run({ try PartialBackupLock.acquire(for: directory) }) else {
            throw BackupError("\(directory) is in use by another drill")
        }
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            lock.release()
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])

        let target = try await chooseTarget(profile: profile, mode: mode, repository: repository)
        var request = PointInTimeRestore.Request(
            target: target.map(RecoveryTarget.time) ?? .latest, dataDirectory: directory + "/data", port: 5432,
            socketDirectory: directory + "/socket", profile: profile, stopAfter: false, runAs: settings.drillRunAs,
            timeoutSeconds: 6 * 3600
        )
        request.runPgVerifybackup = true
        request.priority = settings.priority
        var outcome: Outcome
        var restored: PointInTimeRestore.Outcome?
        do {
            let result = try await PointInTimeRestore(environment: environment, executable: executable).run(request)
            restored = result
            let markers = try await compareMarkers(in: result, target: target)
            let rpo = result.reachedTime.map { (target ?? started).timeIntervalSince($0) }
            let failure = markers.flatMap { expected, found in
                expected == found ? nil : "the restored copy holds markers \(Self.shown(found)), expected exactly \(Self.shown(expected)) (written before \(RecoveryTarget.time(target ?? started)))"
            }
            outcome = Outcome(
                backupID: result.backupID, passed: failure == nil, target: target, reachedTime: result.reachedTime, reachedLSN: result.reachedLSN,
                // The drill's extra pg_verifybackup pass is not part of a restore an operator runs.
                rtoSeconds: result.secondsToQueryable - (result.pgVerifybackupSeconds ?? 0), rpoSeconds: rpo,
                markersExpected: markers?.expected.count,
                markersFound: markers?.found.count, error: failure, pgVerifybackupSeconds: result.pgVerifybackupSeconds
            )
        } catch {
            outcome = Outcome(
                backupID: nil, passed: false, target: target, reachedTime: nil, reachedLSN: nil, rtoSeconds: nil, rpoSeconds: nil,
                markersExpected: nil, markersFound: nil, error: "\(error)", pgVerifybackupSeconds: nil
            )
        }
        if let restored {
            await ScratchServer.stopped(dataDirectory: restored.dataDirectory, runAs: settings.drillRunAs)
        }
        let record = outcome
        try await environment.withOrchestratorDatabase { connection in
            try await store(record, profile: profile, startedAt: started, jobID: jobID, on: connection)
        }
        return outcome
    }

    /// A random moment between the oldest verified base backup's end and the newest archived
    /// segment, away from any marker; nil (the end of the archive) for `latest` or when the
    /// window is shorter than a few seconds.
    private func chooseTarget(profile: String?, mode: Mode, repository: String) async throws -> Date? {
        guard mode == .random else { return nil }
        let walRepository = try WALRepository(root: repository)
        let newestArchived = try await Archiver.run { try WALRepositoryScan.scan(walRepository).newestSegmentModified }
        return try await environment.withOrchestratorDatabase { connection in
            let oldest: Date? = try await connection.query(
                """
                SELECT min(finished_at) AS oldest FROM orchestrator.backups
                WHERE method = 'physical' AND deleted_at IS NULL AND verify_status = 'passed' AND ($1::text IS NULL OR profile = $1)
                """,
                [profile]
            ).single().decodeIfPresent("oldest")
            guard let oldest else {
                throw BackupRequestError("no verified physical base backup\(profile.map { " of profile \($0)" } ?? "") to drill; run a base-backup first")
            }
            guard let end = newestArchived?.addingTimeInterval(-1), end.timeIntervalSince(oldest) > 10 else { return nil }
            var moment = oldest.addingTimeInterval(1 + Double.random(in: 0..<1) * (end.timeIntervalSince(oldest) - 2))
            for _ in 0..<5 where try await RecoveryMarkers.near(moment, margin: Self.markerMargin, on: connection) {
                moment = moment.addingTimeInterval(moment.addingTimeInterval(3) < end ? 3 : -3)
            }
            return moment
        }
    }

    /// The markers written before the target (within the window) against those the copy holds;
    /// nil when the orchestrator's database is not part of the restored cluster.
    private func compareMarkers(in restored: PointInTimeRestore.Outcome, target: Date?) async throws -> (expected: [Int64], found: [Int64])? {
        let orchestrator = environment.connector.orchestrator
        let (sameCluster, until): (Bool, Date?) = try await environment.withOrchestratorDatabase { connection in
            let identifier: Int64 = try await connection.query("SELECT system_identifier FROM pg_control_system()").single().decode("system_identifier")
            let backup = try await BackupCatalog.find(String(restored.backupID), on: connection)
            return (backup?.systemIdentifier == identifier, target ?? restored.reachedTime.map { $0.addingTimeInterval(-Self.markerMargin) })
        }
        guard sameCluster, let until else { return nil }
        let from = until.addingTimeInterval(-Self.markerWindow)
        let expected = try await environment.withOrchestratorDatabase { try await RecoveryMarkers.ids(from: from, to: until, on: $0) }
        let copy = try await PostgresConnection.connect(PointInTimeRestore.copyConnection(
            socketDirectory: restored.socketDirectory, port: restored.port, user: orchestrator.redactedParameters["user"] ?? restored.user,
            database: orchestrator.redactedParameters["dbname"] ?? "postgres", applicationName: "orchestrator-drill"
        ))
        defer { copy.close() }
        // Up to the target: everything in the window. To the end: what was written well before the
        // last replayed commit must be there (later ones may have committed after it).
        let found = try await RecoveryMarkers.ids(from: from, to: target ?? Date.distantFuture, on: copy)
        return (expected, target == nil ? Array(found.prefix(while: { $0 <= (expected.last ?? 0) })) : found)
    }

    /// Stops and removes scratch clusters of drills that ended without cleaning up (killed).
    private func removeLeftovers(in root: String) async {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { $0.hasPrefix("drill-") && !$0.hasSuffix(".lock") }
        for name in names {
            let directory = root + "/" + name
            guard let lock = try? await Archiver.run({ try PartialBackupLock.acquire(for: directory, waiting: .seconds(1)) }) else { continue }
            environment.logger.notice("removing the scratch cluster of a drill that did not finish", metadata: ["drill.directory": "\(directory)"])
            await ScratchServer.stopped(dataDirectory: directory + "/data", runAs: environment.configuration.backups.drillRunAs)
            try? FileManager.default.removeItem(atPath: directory)
            lock.release()
        }
    }

    private func store(_ outcome: Outcome, profile: String?, startedAt: Date, jobID: Int64?, on connection: PostgresConnection) async throws {
        guard let backupID = outcome.backupID else {
            // No backup could be restored: the job's failure records it; the drill table needs a backup.
            return
        }
        try await connection.query(
            """
            INSERT INTO orchestrator.restore_drills
                (backup_id, job_id, started_at, finished_at, status, restore_seconds, backup_age, error, method,
                 target_time, reached_time, reached_lsn, rpo_seconds, markers_expected, markers_found)
            VALUES ($1, $2, $3, now(), $4, $5, make_interval(secs => $6), $7, 'physical', $8, $9, $10::pg_lsn, $11, $12, $13)
            """,
            [backupID, jobID, startedAt, outcome.passed ? "passed" : "failed", outcome.rtoSeconds, outcome.rpoSeconds ?? 0, outcome.error,
             outcome.target, outcome.reachedTime, outcome.reachedLSN, outcome.rpoSeconds, outcome.markersExpected, outcome.markersFound]
        )
    }

    private static func shown(_ ids: [Int64]) -> String {
        ids.isEmpty ? "none" : ids.count <= 6 ? ids.map(String.init).joined(separator: ", ") : "\(ids.count) (\(ids.first!)…\(ids.last!))"
    }
}
