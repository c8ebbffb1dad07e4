import Archiving
import Foundation
import Logging
import PostgresClient
import Settings
import Support

/// Makes one backup of a profile. Everything is written under a hidden `.partial-<label>`
/// directory, verified, and only then renamed into place and recorded in the catalog, in one
/// transaction: a failed or killed backup leaves nothing visible and no catalog row, and never
/// touches earlier backups. The next backup of the profile removes leftover partial directories,
/// each once its writer lock (`PartialBackupLock`) shows that nothing can still write there.
package struct BackupBuilder: Sendable {
    let profileName: String
    let profile: BackupProfile
    let settings: BackupSettings
    let environment: BackupEnvironment
    let jobID: Int64?

    package init(profileName: String, configuration: Configuration, environment: BackupEnvironment, jobID: Int64?) throws {
        guard let profile = configuration.backups.profiles[profileName] else {
            throw BackupRequestError("unknown backup profile \(profileName.debugDescription)")
        }
        self.profileName = profileName
        self.profile = profile
        self.settings = configuration.backups
        self.environment = environment
        self.jobID = jobID
    }

    package func run() async throws -> BackupRecord {
        let started = Date()
        let clock = ContinuousClock.now
        let label = Self.label(for: started, jobID: jobID)
        let profileDirectory = settings.repository + "/" + profileName
        try Self.makeDirectory(profileDirectory)
        try await removeLeftovers(in: profileDirectory)
        let partial = profileDirectory + "/.partial-" + label
        let final = profileDirectory + "/" + label
        // Taken before the directory exists, so no partial directory is ever without its lock.
        guard let lock = try await Archiver.run({ try PartialBackupLock.acquire(for: partial) }) else {
            throw BackupError("\(partial) is being written by another process; is another worker running this backup?")
        }
        defer { lock.release() }
        try Self.makeDirectory(partial)
        do {
            let built = try await build(into: partial, label: label, started: started, lock: lock)
            var manifest = built.manifest
            manifest.timings["total_before_verify_s"] = (ContinuousClock.now - clock).seconds
            let manifestData = try manifest.encoded()
            try Self.write(manifestData, to: partial + "/" + BackupManifest.fileName)
            let manifestSHA = FileDigest.sha256(of: manifestData)

            let verifyStarted = ContinuousClock.now
            let verifyStartedAt = Date()
            // The dumps were read end to end when their rows were counted, and a base backup's
            // data tar as it was written; reading them again here would double the backup's
            // heaviest pass for no new fact.
            let report = try await BackupVerifier(logger: environment.logger, archiver: environment.archiver, priority: settings.priority)
                .verify(directory: partial, manifestSHA256: manifestSHA, dumpsRead: true, baseMembers: built.baseMembers, readBack: built.readBack)
            environment.logger.info("backup verified", metadata: [
                "backup.files": "\(report.files)", "backup.bytes": "\(report.bytes)",
                "verify.s": "\(String(format: "%.2f", (ContinuousClock.now - verifyStarted).seconds))",
            ])
            return try await environment.withOrchestratorDatabase { connection in
                try await connection.transaction { tx in
                    let record = try await BackupCatalog.insert(
                        manifest, manifestSHA256: manifestSHA, location: final, jobID: jobID, verifiedFrom: verifyStartedAt, verification: report, on: tx
                    )
                    guard rename(partial, final) == 0 else {
                        throw BackupError("cannot move \(partial) to \(final): \(String(cString: strerror(errno)))")
                    }
                    Self.syncDirectory(profileDirectory)
                    return record
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            if FileManager.default.fileExists(atPath: final), (try? await isCatalogued(final)) == false {
                // The rename happened but the commit did not: take the backup back out of sight.
                try? FileManager.default.removeItem(atPath: final)
            }
            throw error
        }
    }

    /// What `build` made: the manifest, and what was already checked while it was written.
    private struct Built {
        var manifest: BackupManifest
        /// A physical profile's data tar, matched against `backup_manifest`.
        var baseMembers: BaseBackupCheck.Members?
        /// Files whose stored bytes were read back and hashed as they were written.
        var readBack: Set<String>
    }

    private func build(into directory: String, label: String, started: Date, lock: PartialBackupLock) async throws -> Built {
        var manifest = BackupManifest(
            format: BackupManifest.currentFormat, profile: profileName, label: label, host: HostInfo.hostName,
            orchestratorVersion: OrchestratorVersion.current, startedAt: started, finishedAt: started,
            databases: [], globals: nil, fileSets: [], files: [], timings: [:]
        )
        var baseMembers: BaseBackupCheck.Members?
        // Files already hashed as they were written, by their path in the backup.
        var known: [String: FileDigest.Result] = [:]
        // A plain copy's files are listed, with their SHA-256, in backup_manifest (itself in
        // manifest.json), and checked against it: not hashed a second time for manifest.json.
        var plainDirectory: String?
        if profile.method == .physical {
            guard let key = profile.database else { throw BackupRequestError("physical profile \(profileName) names no database") }
            let clock = ContinuousClock.now
            let taken = try await BaseBackupTaker(
                connection: try environment.connectionConfiguration(forDatabase: key), profile: profile, label: label,
                logger: environment.logger, lock: lock.descriptor, priority: settings.priority,
                walRepository: environment.configuration.walArchive?.repository, compressionWorkers: settings.parallelJobs
            ).take(into: directory)
            manifest.physical = taken.physical
            baseMembers = taken.matched
            if let digest = taken.baseArchiveDigest { known[taken.physical.baseArchive] = digest }
            if taken.physical.isPlain { plainDirectory = taken.physical.baseArchive }
            manifest.timings["base_backup_s"] = (ContinuousClock.now - clock).seconds
        }
        if !profile.databases.isEmpty {
            guard let pgDump = ChildProcess.locate("pg_dump") else {
                throw BackupRequestError("pg_dump not found; install the PostgreSQL client package (postgresql-client)")
            }
            guard let pgRestore = ChildProcess.locate("pg_restore") else {
                throw BackupRequestError("pg_restore not found; install the PostgreSQL client package (postgresql-client)")
            }
            let pgDumpVersion = try await DatabaseDumper.version(of: pgDump)
            try Self.makeDirectory(directory + "/db")
            for name in profile.databases {
                let connection = try environment.connectionConfiguration(forDatabase: name)
                let relative = "db/\(name).dump"
                let clock = ContinuousClock.now
                let result = try await DatabaseDumper(
                    connection: connection, parallelJobs: settings.parallelJobs, pgDump: pgDump, pgRestore: pgRestore,
                    priority: settings.priority, logger: environment.logger, lock: lock.descriptor
                ).dump(into: directory + "/" + relative, named: relative)
                manifest.timings["dump_\(name)_s"] = (ContinuousClock.now - clock).seconds - result.countSeconds
                manifest.timings["count_\(name)_s"] = result.countSeconds
                manifest.databases.append(.init(
                    name: name, dbname: environment.configuration.databases[name]?.dbname ?? name, path: relative,
                    serverVersion: result.serverVersion, snapshotTime: result.snapshotTime, pgDumpVersion: pgDumpVersion,
                    pgDumpOptions: result.options, tables: result.tables
                ))
            }
            if profile.globals, let first = profile.databases.first {
                manifest.globals = try await dumpGlobals(into: directory, using: try environment.connectionConfiguration(forDatabase: first), lock: lock)
            }
        }
        if !profile.paths.isEmpty {
            let compression = ArchiveCompression(rawValue: profile.compression) ?? .zstd
            let relative = "files/files" + compression.fileExtension
            try Self.makeDirectory(directory + "/files")
            let clock = ContinuousClock.now
            let written = try await environment.archiver.run(
                .create(archive: directory + "/" + relative, compression: compression, paths: profile.paths, excludes: profile.excludes),
                inheriting: [lock.descriptor], priority: settings.priority
            )
            manifest.timings["archive_s"] = (ContinuousClock.now - clock).seconds
            manifest.fileSets.append(.init(
                archive: relative, paths: profile.paths, excludes: profile.excludes, entries: written.entries, bytes: written.bytes
            ))
        }
        try Self.restrictPermissions(under: directory)
        let clock = ContinuousClock.now
        var records: [BackupManifest.FileRecord] = []
        for path in try BackupVerifier.files(under: directory).sorted() where !BackupVerifier.isInside(path, plainDirectory) {
            let absolute = directory + "/" + path
            let digest: FileDigest.Result
            if let hashed = known[path] {
                digest = hashed
            } else {
                digest = try await Archiver.run { try FileDigest.sha256(ofFileAt: absolute) }
            }
            records.append(.init(path: path, bytes: digest.bytes, sha256: digest.sha256))
        }
        manifest.timings["checksum_s"] = (ContinuousClock.now - clock).seconds
        manifest.files = records
        manifest.finishedAt = Date()
        return Built(manifest: manifest, baseMembers: baseMembers, readBack: Set(known.keys))
    }

    /// Roles and tablespaces. Role password hashes need superuser to read; others get the
    /// roles without passwords, and the manifest says which.
    private func dumpGlobals(into directory: String, using connection: ConnectionConfiguration, lock: PartialBackupLock) async throws -> String {
        guard let pgDumpAll = ChildProcess.locate("pg_dumpall") else {
            throw BackupRequestError("pg_dumpall not found; install the PostgreSQL client package (postgresql-client)")
        }
        let superuser = try await {
            let session = try await PostgresConnection.connect(connection)
            defer { session.close() }
            return try await session.query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").first?.decode("rolsuper", as: Bool.self) ?? false
        }()
        var arguments = ["--globals-only", "--no-password", "--file=\(directory)/globals.sql"]
        if !superuser { arguments.append("--no-role-passwords") }
        try await ChildProcess.run(pgDumpAll, arguments, environment: connection.toolEnvironment, inheriting: [lock.descriptor], priority: settings.priority)
        return "globals.sql"
    }

    /// Removes unfinished backups of earlier attempts, each only once its writer lock is free:
    /// every process that wrote there is gone. One still held after a few seconds belongs to a
    /// live writer and is left for a later backup.
    private func removeLeftovers(in profileDirectory: String) async throws {
        let logger = environment.logger
        try await Archiver.run {
            let names = try FileManager.default.contentsOfDirectory(atPath: profileDirectory).filter { $0.hasPrefix(".partial-") }
            let partials = Set(names.map { $0.hasSuffix(".lock") ? String($0.dropLast(5)) : $0 })
            for name in partials.sorted() {
                let path = profileDirectory + "/" + name
                guard let lock = try PartialBackupLock.acquire(for: path, waiting: .seconds(5)) else {
                    logger.warning("an unfinished backup is still held by a live process; left alone", metadata: ["backup.partial": "\(name)"])
                    continue
                }
                defer { lock.release() }
                guard FileManager.default.fileExists(atPath: path) else { continue }
                logger.notice("removing an unfinished backup left by an earlier attempt", metadata: ["backup.partial": "\(name)"])
                try FileManager.default.removeItem(atPath: path)
            }
        }
    }

    private func isCatalogued(_ location: String) async throws -> Bool {
        try await environment.withOrchestratorDatabase { connection in
            !(try await connection.query("SELECT 1 FROM orchestrator.backups WHERE location = $1", [location]).rows.isEmpty)
        }
    }

    /// `20261124T020000Z-42`: sorts by time, unique per job.
    static func label(for date: Date, jobID: Int64?) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!  // "UTC" always exists
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
        return stamp + "-" + (jobID.map(String.init) ?? String(UInt32.random(in: 0...UInt32.max), radix: 16))
    }

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BackupError("cannot create directory \(path): \(error.localizedDescription)")
        }
    }

    static func write(_ data: Data, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BackupError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let written = data.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(descriptor) == 0 else {
            throw BackupError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Tools create files with the process umask; a backup holds data only its owner may read,
    /// and verification insists on it: files 0600, directories 0700, the root included.
    static func restrictPermissions(under directory: String) throws {
        let tree = try BackupTree(reading: directory)
        for entry in [tree.root] + tree.entries {
            let path = entry.path.isEmpty ? directory : directory + "/" + entry.path
            let mode = entry.isDirectory ? BackupTree.directoryPermissions : BackupTree.filePermissions
            guard entry.type == S_IFDIR || entry.type == S_IFREG else {
                throw BackupError("\(entry.path) is \(BackupFileOpener.kind(entry.type)); a backup holds regular files only")
            }
            guard chmod(path, mode) == 0 else {
                throw BackupError("cannot restrict permissions of \(entry.path.isEmpty ? directory : entry.path): \(String(cString: strerror(errno)))")
            }
        }
    }

    static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }
}
