import Archiving
import Foundation
import Logging
import PostgresClient
import Support

/// Restores a catalogued backup: a database into a new database created from template0 (or,
/// with `replace`, swapped in only after the restore succeeded), and file sets under a chosen
/// directory only. `pg_restore` stops at the first error: there is no "errors ignored" success.
package struct BackupRestorer: Sendable {
    package struct Options: Sendable {
        /// Name of the database to create; nil restores no database (files only).
        package var database: String?
        /// Which database of the backup (manifest name); default: the only one.
        package var source: String?
        package var replace: Bool
        package var filesTo: String?
        /// Keep owners and grants from the dump (needs a superuser); default off.
        package var keepOwners: Bool

        package init(database: String?, source: String? = nil, replace: Bool = false, filesTo: String? = nil, keepOwners: Bool = false) {
            self.database = database
            self.source = source
            self.replace = replace
            self.filesTo = filesTo
            self.keepOwners = keepOwners
        }
    }

    package struct Outcome: Sendable {
        /// The restored database, nil for a files-only restore.
        package let database: String?
        package let seconds: Double
        package let replacedDatabaseKeptAs: String?
        package let filesExtracted: Int
    }

    let environment: BackupEnvironment
    let parallelJobs: Int
    /// `pg_restore`'s priority: normal for a restore an operator waits for; a drill, routine
    /// work beside the application, runs at `backups.priority`.
    let priority: ProcessPriority

    package init(environment: BackupEnvironment, priority: ProcessPriority = .normal) {
        self.environment = environment
        self.parallelJobs = environment.configuration.backups.parallelJobs
        self.priority = priority
    }

    /// Loads a backup's manifest from disk, refusing one whose manifest differs from the catalog.
    /// Read like verification reads it: never through a link, never blocking on a FIFO.
    static func manifest(of record: BackupRecord) async throws -> BackupManifest {
        let location = record.location
        let data: Data
        do {
            data = try await Archiver.run { try BackupFileOpener.contents(of: BackupManifest.fileName, under: location, limit: BackupVerifier.manifestLimit) }
        } catch {
            throw BackupRequestError("backup \(record.id) has no readable manifest at \(record.location) (moved or deleted?): \(error)")
        }
        guard FileDigest.sha256(of: data) == record.manifestSHA256 else {
            throw BackupRequestError("backup \(record.id): manifest.json differs from the catalog; run `orchestrator backups verify \(record.id)`")
        }
        return try BackupManifest.decode(data)
    }

    package func restore(_ record: BackupRecord, options: Options, jobID: Int64?) async throws -> Outcome {
        guard record.method == .logical else {
            throw BackupRequestError("backup \(record.id) is a physical copy of the whole cluster; restore it with `orchestrator pitr restore --backup \(record.id) --data-dir DIR`")
        }
        let manifest = try await Self.manifest(of: record)
        let started = ContinuousClock.now
        // Everything asked for must be in the backup before anything is restored.
        let dump = try options.database.map { _ in try Self.dump(named: options.source, in: manifest, of: record) }
        if options.filesTo != nil, manifest.fileSets.isEmpty {
            throw BackupRequestError("backup \(record.id) holds no files (its profile has no paths); restore without files_to")
        }
        var keptAs: String?
        if let target = options.database, let dump {
            keptAs = try await restoreDatabase(dump, from: record, into: target, options: options, jobID: jobID).keptAs
        }
        var extracted = 0
        if let directory = options.filesTo {
            for set in manifest.fileSets {
                let archive = record.location + "/" + set.archive
                let summary = try await environment.archiver.run(.extract(archive: archive, directory: directory))
                extracted += summary.entries
            }
        }
        return Outcome(database: options.database, seconds: (ContinuousClock.now - started).seconds, replacedDatabaseKeptAs: keptAs, filesExtracted: extracted)
    }

    /// The dump to restore: the one named by `source`, else the backup's only one.
    static func dump(named source: String?, in manifest: BackupManifest, of record: BackupRecord) throws -> BackupManifest.DatabaseDump {
        let names = manifest.databases.map(\.name).joined(separator: ", ")
        if let source {
            guard let match = manifest.databases.first(where: { $0.name == source }) else {
                throw BackupRequestError("backup \(record.id) has no database \(source.debugDescription); it has \(names.isEmpty ? "none" : names)")
            }
            return match
        }
        guard manifest.databases.count == 1 else {
            if manifest.databases.isEmpty {
                throw BackupRequestError("backup \(record.id) holds no database (its profile has no databases); restore with files_to only")
            }
            throw BackupRequestError("backup \(record.id) holds \(manifest.databases.count) databases (\(names)); choose one with source=NAME")
        }
        return manifest.databases[0]
    }

    /// Server connection for the restore: the configured database's server, else the orchestrator's.
    func serverConnection(for dump: BackupManifest.DatabaseDump) -> ConnectionConfiguration {
        (try? environment.connectionConfiguration(forDatabase: dump.name)) ?? environment.connector.orchestrator
    }

    func restoreDatabase(
        _ dump: BackupManifest.DatabaseDump, from record: BackupRecord, into target: String, options: Options, jobID: Int64?
    ) async throws -> (database: String, keptAs: String?) {
        let server = serverConnection(for: dump)
        let admin = try await PostgresConnection.connect(server.withDatabase("postgres"))
        defer { admin.close() }
        guard !target.isEmpty, target.utf8.count <= 50 else { throw BackupRequestError("database name \(target.debugDescription) must be 1 to 50 bytes long") }
        let exists = !(try await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [target]).rows.isEmpty)
        if exists && !options.replace {
            throw BackupRequestError("database \(target.debugDescription) already exists; choose another name or pass --replace")
        }
        let working = exists ? "\(target)__restoring_\(jobID.map(String.init) ?? "x")" : target
        try await admin.execute("DROP DATABASE IF EXISTS \(try SQLIdentifier.quoted(working))")
        try await admin.execute("CREATE DATABASE \(try SQLIdentifier.quoted(working)) TEMPLATE template0")
        do {
            try await runRestore(dump, from: record, into: working, server: server, keepOwners: options.keepOwners)
        } catch {
            try? await admin.execute("DROP DATABASE IF EXISTS \(try SQLIdentifier.quoted(working)) WITH (FORCE)")
            throw error
        }
        guard exists else { return (target, nil) }
        // Swap only now that the restore succeeded; the old database is kept under a new name.
        let keptAs = "\(target)__replaced_\(jobID.map(String.init) ?? "x")"
        try await admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [target]
        )
        try await admin.execute("ALTER DATABASE \(try SQLIdentifier.quoted(target)) RENAME TO \(try SQLIdentifier.quoted(keptAs))")
        try await admin.execute("ALTER DATABASE \(try SQLIdentifier.quoted(working)) RENAME TO \(try SQLIdentifier.quoted(target))")
        environment.logger.notice("replaced database; the previous one is kept", metadata: ["db.name": "\(target)", "db.kept_as": "\(keptAs)"])
        return (target, keptAs)
    }

    func runRestore(_ dump: BackupManifest.DatabaseDump, from record: BackupRecord, into database: String, server: ConnectionConfiguration, keepOwners: Bool) async throws {
        guard let pgRestore = ChildProcess.locate("pg_restore") else {
            throw BackupRequestError("pg_restore not found; install the PostgreSQL client package (postgresql-client)")
        }
        var arguments = ["--exit-on-error", "--jobs=\(parallelJobs)", "--no-password", "--dbname=\(database)"]
        if !keepOwners { arguments += ["--no-owner", "--no-privileges"] }
        arguments.append(record.location + "/" + dump.path)
        environment.logger.info("restoring database", metadata: ["backup.id": "\(record.id)", "db.name": "\(database)"])
        try await ChildProcess.run(pgRestore, arguments, environment: server.withDatabase(database).toolEnvironment, priority: priority)
    }
}
