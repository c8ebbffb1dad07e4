import Archiving
import Foundation
import Logging
import Support

/// Re-reads every byte of a backup: the manifest against the catalog's checksum, every file
/// against the manifest (size and SHA-256, nothing missing, nothing extra, regular files only,
/// read without following links or blocking on a FIFO, files 0600 and directories 0700), every tar archive
/// end to end, and every dump end to end through `pg_restore`, recounting each table's rows
/// against the manifest (a listing alone passes a truncated dump). The first problem found
/// fails verification, naming the file.
package struct BackupVerifier: Sendable {
    package struct Report: Sendable, Equatable {
        package let files: Int
        package let bytes: Int64
    }

    let pgRestore: String?
    let logger: Logger
    let archiver: ArchiveRunner
    let priority: ProcessPriority

    package init(
        pgRestore: String? = ChildProcess.locate("pg_restore"), logger: Logger, archiver: ArchiveRunner = .inProcess, priority: ProcessPriority = .normal
    ) {
        self.pgRestore = pgRestore
        self.logger = logger
        self.archiver = archiver
        self.priority = priority
    }

    /// `dumpsRead`: the dumps were already read end to end and counted since the manifest was
    /// written (a fresh backup); their files are still checked byte for byte. `baseMembers`:
    /// likewise the base backup's data tar, matched against `backup_manifest` as it was written.
    /// `readBack`: files whose stored bytes were read back from disk and hashed as they were
    /// written, which gave their manifest records; their size is still checked, their bytes
    /// not hashed a second time.
    package func verify(
        directory: String, manifestSHA256 expected: String?, dumpsRead: Bool = false, baseMembers: BaseBackupCheck.Members? = nil,
        readBack: Set<String> = []
    ) async throws -> Report {
        let manifestPath = directory + "/" + BackupManifest.fileName
        var manifestInfo = stat()
        guard lstat(manifestPath, &manifestInfo) == 0 else {
            throw BackupError("\(BackupManifest.fileName) is missing from \(directory)")
        }
        let manifestData = try await Archiver.run {
            try BackupFileOpener.contents(of: BackupManifest.fileName, under: directory, limit: Self.manifestLimit)
        }
        if let expected, FileDigest.sha256(of: manifestData) != expected {
            throw BackupError("\(BackupManifest.fileName) was modified: its SHA-256 differs from the catalog's")
        }
        let manifest = try BackupManifest.decode(manifestData)
        let tree = try await Archiver.run { try BackupTree(reading: directory) }
        try Self.checkShape(of: tree, against: manifest, copy: manifest.physical.flatMap { $0.isPlain ? $0.baseArchive : nil })

        var bytes: Int64 = 0
        for record in manifest.files {
            if readBack.contains(record.path) {
                var info = stat()
                guard lstat(directory + "/" + record.path, &info) == 0, Int64(info.st_size) == record.bytes else {
                    throw BackupError("\(record.path) no longer has the \(record.bytes) bytes it was written with")
                }
                bytes += record.bytes
                continue
            }
            let digest = try await Archiver.run { try FileDigest.sha256(ofFile: record.path, under: directory) }
            guard digest.bytes == record.bytes else {
                throw BackupError("\(record.path) has \(digest.bytes) bytes, the manifest says \(record.bytes) (truncated or grown)")
            }
            guard digest.sha256 == record.sha256 else {
                throw BackupError("\(record.path) is corrupt: SHA-256 differs from the manifest")
            }
            bytes += digest.bytes
        }
        for set in manifest.fileSets {
            let path = directory + "/" + set.archive
            do {
                _ = try await archiver.run(.read(archive: path), priority: priority)
            } catch {
                throw BackupError("\(set.archive) cannot be read end to end: \(error)")
            }
        }
        if let physical = manifest.physical {
            let checked = try await Archiver.run { try BaseBackupCheck.verify(directory: directory, physical: physical, matched: baseMembers) }
            if physical.isPlain {
                // PostgreSQL's own reading of the copy, mostly for its WAL: pg_waldump parses
                // every record from start to stop. The checksums were compared just above.
                try await PointInTimeRestore.runPgVerifybackup(
                    dataDirectory: directory + "/" + physical.baseArchive, backup: directory, serverVersion: physical.serverVersion,
                    skipChecksums: true, what: "the backup"
                )
            }
            logger.info("base backup checked against backup_manifest", metadata: [
                "backup.data_files": "\(checked.files)", "backup.data_bytes": "\(checked.bytes)", "backup.wal_segments": "\(checked.segments)",
            ])
        }
        for database in manifest.databases where !dumpsRead {
            guard let pgRestore else { throw BackupError("pg_restore not found; install the PostgreSQL client package") }
            let counted = try await DumpRowCounter(pgRestore: pgRestore, priority: priority).count(dump: directory + "/" + database.path, named: database.path)
            try DumpRowCounter.compare(counted, with: database.tables, dump: database.path)
        }
        return Report(files: manifest.files.count, bytes: bytes)
    }

    /// The manifest lists every file; a bigger one is not a manifest.
    static let manifestLimit = 64 << 20

    /// Nothing missing, nothing extra (files or directories), every file a regular file, and the
    /// promised permissions: files 0600, directories 0700. Names the first offending path.
    /// `copy`: a plain backup's data directory, whose files `backup_manifest` lists instead.
    static func checkShape(of tree: BackupTree, against manifest: BackupManifest, copy: String? = nil) throws {
        // A link, FIFO or device is refused before anything is compared or read through it.
        if let odd = tree.entries.first(where: { !$0.isDirectory && $0.type != S_IFREG }) {
            throw BackupError("\(odd.path) is \(BackupFileOpener.kind(odd.type)), not a regular file; the backup was tampered with")
        }
        let present = Set(tree.nonDirectories.filter { !isInside($0, copy) })
        let listed = Set(manifest.files.map(\.path))
        if let missing = manifest.files.map(\.path).first(where: { !present.contains($0) }) {
            throw BackupError("\(missing) is missing")
        }
        if let extra = present.sorted().first(where: { !listed.contains($0) && $0 != BackupManifest.fileName }) {
            throw BackupError("\(extra) is not in the manifest")
        }
        let needed = BackupTree.directories(holding: listed).union(copy.map { [$0] } ?? [])
        if let extra = tree.entries.first(where: { $0.isDirectory && !needed.contains($0.path) && !isInside($0.path, copy) }) {
            throw BackupError("\(extra.path)/ is not in the manifest (an extra directory)")
        }
        for entry in [tree.root] + tree.entries {
            let name = entry.path.isEmpty ? "the backup directory" : entry.path
            switch entry.type {
            case S_IFDIR:
                guard entry.permissions == BackupTree.directoryPermissions else {
                    throw BackupError("\(name) has mode \(octal(entry.permissions)); backup directories are 0700 (changed after the backup?)")
                }
            case S_IFREG:
                guard entry.permissions == BackupTree.filePermissions else {
                    throw BackupError("\(name) has mode \(octal(entry.permissions)); backup files are 0600 (changed after the backup?)")
                }
            default:
                break  // refused above
            }
        }
    }

    private static func octal(_ permissions: mode_t) -> String {
        "0" + String(permissions, radix: 8)
    }

    /// Whether `path` (relative to a backup) lies below the directory `copy`.
    static func isInside(_ path: String, _ copy: String?) -> Bool {
        guard let copy else { return false }
        return path.hasPrefix(copy + "/")
    }

    /// Everything but directories under `directory`, relative, not following symbolic links (a
    /// link is reported as a file so it fails the checks rather than being read through).
    static func files(under directory: String) throws -> Set<String> {
        Set(try BackupTree(reading: directory).nonDirectories)
    }
}
