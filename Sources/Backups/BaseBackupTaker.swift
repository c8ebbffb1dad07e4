import BlockingWork
import Database
import Foundation
import Logging
import PostgresClient
import Settings
import Support

/// Copies a whole cluster with `pg_basebackup` in tar format: the data directory as one
/// compressed tar, the WAL streamed meanwhile as `pg_wal.tar` (so the copy is consistent on its
/// own, even without the archive), and PostgreSQL's `backup_manifest` with a SHA-256 per file.
/// Compression runs in `pg_basebackup` on this host, not in the server: the server only reads
/// and sends files.
struct BaseBackupTaker: Sendable {
    let connection: ConnectionConfiguration
    let profile: BackupProfile
    let label: String
    let logger: Logger
    /// The partial backup's writer lock, held by `pg_basebackup` while it lives.
    let lock: Int32
    /// `backups.priority`: low runs pg_basebackup (and its compression) niced, at a low I/O priority.
    let priority: ProcessPriority
    /// The WAL repository, whose cluster must be the one copied.
    let walRepository: String?
    /// zstd threads in `pg_basebackup` (`backups.parallel_jobs`): one thread compresses about
    /// as fast as the server reads, so a second one is what the copy is waiting for.
    let compressionWorkers: Int

    /// Facts read from the server before the copy: what the backup belongs to.
    struct ServerFacts: Sendable {
        let version: String
        let systemIdentifier: Int64
        let walSegmentSize: Int64
    }

    /// What a copy produced: the catalog's facts, and its data tar already checked against
    /// `backup_manifest` while it was written (`BaseBackupFollower`).
    struct Taken: Sendable {
        let physical: BackupManifest.PhysicalBackup
        /// nil in plain format: verification reads the copy.
        let matched: BaseBackupCheck.Members?
        /// The data tar as stored, hashed while it was followed (nil in plain format).
        let baseArchiveDigest: FileDigest.Result?
    }

    /// A plain backup's copy of the data directory, inside the backup.
    static let plainDirectory = "data"


    func take(into directory: String) async throws -> Taken {
        guard let tool = ChildProcess.locate("pg_basebackup") else {
            throw BackupRequestError("pg_basebackup not found; install the PostgreSQL client package (postgresql-client)")
        }
        let facts = try await readServerFacts()
        if let root = walRepository {
            try RepositoryCluster.require(facts.systemIdentifier, repository: root, what: "the server this profile copies")
        }
        let version = try await DatabaseDumper.version(of: tool)
        let plain = profile.format == .plain
        let compression = Self.compressionOption(profile, workers: compressionWorkers)
        var options = [
            "--format=\(plain ? "plain" : "tar")", "--wal-method=stream", "--checkpoint=\(profile.checkpoint.rawValue)",
            "--manifest-checksums=SHA256", "--no-password",
            // The copy is flushed as it grows (WritebackPacer), not in one burst at exit.
            "--no-sync",
        ]
        if !plain { options.append("--compress=\(compression.option)") }
        if let rate = profile.maxRate { options.append("--max-rate=\(rate)") }
        logger.info("copying the cluster with pg_basebackup", metadata: [
            "backup.checkpoint": "\(profile.checkpoint.rawValue)", "backup.max_rate": "\(profile.maxRate ?? "unlimited")",
            "backup.format": "\(plain ? "plain" : "tar")",
        ])
        // Plain: the copy is the directory `data`; tar: the data directory's tar.
        let baseArchive = plain ? Self.plainDirectory : "base.tar" + compression.fileExtension
        let pacer = WritebackPacer(directory: directory, recursive: plain)
        let follower = plain ? nil : BaseBackupFollower(path: directory + "/" + baseArchive)
        follower?.start(priority: priority)
        do {
            try await pacer.pacing {
                try await ChildProcess.run(
                    tool, options + ["--label=orchestrator \(label)", "--pgdata=\(plain ? directory + "/" + baseArchive : directory)"],
                    environment: connection.toolEnvironment, inheriting: [lock], priority: priority
                )
            }
            follower?.file.writerFinished()
        } catch {
            follower?.file.writerAbandoned()
            _ = await follower?.outcome()
            if let failure = error as? ChildProcess.Failure {
                throw BackupError("pg_basebackup failed: \(failure)\(Self.hint(for: "\(failure)"))")
            }
            throw error
        }
        var followed: BaseBackupFollower.Outcome?
        switch await follower?.outcome() {
        case .success(let outcome): followed = outcome
        case .failure(let error): throw BackupError("\(baseArchive) cannot be read end to end: \(error)")
        case nil: break
        }
        if plain {
            // backup_manifest sits beside the copy, as in tar format: the data directory holds
            // only what PostgreSQL wrote, and manifest.json lists backup_manifest at the top.
            let inside = directory + "/" + baseArchive + "/" + PostgresBackupManifest.fileName
            guard rename(inside, directory + "/" + PostgresBackupManifest.fileName) == 0 else {
                throw BackupError("pg_basebackup wrote no backup_manifest in \(baseArchive): \(String(cString: strerror(errno)))")
            }
        }
        try await BlockingExecutor.shared.run(.jobs) { try pacer.finish() }
        let manifestData: Data
        do {
            manifestData = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + PostgresBackupManifest.fileName))
        } catch {
            throw BackupError("pg_basebackup wrote no backup_manifest: \(error.localizedDescription)")
        }
        let manifest = try PostgresBackupManifest(data: manifestData)
        var matched: BaseBackupCheck.Members?
        if let followed {
            var match = BackupManifestMatch(manifest, archive: baseArchive)
            try match.match(followed.members)
            matched = BaseBackupCheck.Members(files: match.files, bytes: match.bytes)
        }
        guard manifest.walRanges.count == 1, let range = manifest.walRanges.first else {
            throw BackupError("the backup spans \(manifest.walRanges.count) timelines (the server was promoted during the copy); take it again")
        }
        let size = UInt64(facts.walSegmentSize)
        let walArchive = plain ? nil : ["pg_wal.tar" + compression.fileExtension, "pg_wal.tar"].first {
            FileManager.default.fileExists(atPath: directory + "/" + $0)
        }
        let physical = BackupManifest.PhysicalBackup(
            serverVersion: facts.version, systemIdentifier: facts.systemIdentifier, timeline: range.timeline,
            startPosition: range.start, stopPosition: range.end,
            startSegment: range.start.segmentName(timeline: range.timeline, segmentSize: size),
            stopSegment: range.end.segmentName(timeline: range.timeline, segmentSize: size),
            walSegmentSize: facts.walSegmentSize, baseArchive: baseArchive, walArchive: walArchive,
            pgBaseBackupVersion: version, pgBaseBackupOptions: options, format: plain ? .plain : nil
        )
        return Taken(physical: physical, matched: matched, baseArchiveDigest: followed?.archive)
    }

    /// The server's identity and settings, and whether this role may copy it at all — checked
    /// here so the error names the fix instead of quoting pg_basebackup.
    private func readServerFacts() async throws -> ServerFacts {
        let session = try await PostgresConnection.connect(target: connection)
        defer { session.close() }
        let row = try await session.query(
            """
            SELECT (SELECT system_identifier FROM pg_control_system()) AS system_identifier,
                   current_setting('server_version') AS version,
                   (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size') AS segment_size,
                   current_setting('wal_level') AS wal_level,
                   current_setting('max_wal_senders')::int AS senders,
                   (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS may_replicate,
                   (SELECT count(*) FROM pg_tablespace WHERE spcname NOT IN ('pg_default', 'pg_global')) AS tablespaces,
                   current_user AS role
            """
        ).single()
        let role: String = try row.decode("role")
        guard try row.decode("may_replicate", as: Bool.self) else {
            throw BackupRequestError("role \(role.debugDescription) may not copy the cluster: grant it with ALTER ROLE \((try? SQLIdentifier.quoted(role)) ?? role) REPLICATION, and allow it a replication connection in pg_hba.conf")
        }
        guard try row.decode("wal_level", as: String.self) != "minimal" else {
            throw BackupRequestError("wal_level is minimal; a base backup needs wal_level = replica (restart PostgreSQL after changing it)")
        }
        guard try row.decode("senders", as: Int32.self) >= 2 else {
            throw BackupRequestError("max_wal_senders is below 2; a base backup streams its WAL on a second connection: set max_wal_senders = 10 (restart needed)")
        }
        guard try row.decode("tablespaces", as: Int64.self) == 0 else {
            throw BackupRequestError("the cluster has tablespaces besides pg_default; physical backups of clusters with tablespaces are not supported yet (use a logical profile)")
        }
        return ServerFacts(version: try row.decode("version"), systemIdentifier: try row.decode("system_identifier"), walSegmentSize: try row.decode("segment_size"))
    }

    struct Compression: Sendable {
        let option: String
        let fileExtension: String
    }

    /// zstd on this host at level 1 unless the profile says otherwise: cheap, and the server
    /// does none of it. With more than one worker, zstd compresses on that many threads (only
    /// zstd can; gzip and lz4 stay on one).
    static func compressionOption(_ profile: BackupProfile, workers: Int = 1) -> Compression {
        let level = profile.compressionLevel.map { ":level=\($0)" }
        switch profile.compression {
        case "gzip": return Compression(option: "client-gzip" + (level ?? ""), fileExtension: ".gz")
        case "lz4": return Compression(option: "client-lz4" + (level ?? ""), fileExtension: ".lz4")
        case "none": return Compression(option: "none", fileExtension: "")
        default:
            let threads = workers > 1 ? ",workers=\(workers)" : ""
            return Compression(option: "client-zstd" + (level ?? ":level=1") + threads, fileExtension: ".zst")
        }
    }

    private static func hint(for message: String) -> String {
        if message.contains("no pg_hba.conf entry for replication") {
            return "; allow a replication connection for this role in pg_hba.conf (e.g. `local replication ROLE peer`) and reload PostgreSQL"
        }
        if message.contains("number of requested standby connections exceeds") {
            return "; raise max_wal_senders (restart needed)"
        }
        if message.contains("compression worker count") {
            return "; this host's libzstd cannot compress on several threads: set backups.parallel_jobs: 1"
        }
        return ""
    }
}
