import Archiving
import Foundation

/// Extracts a catalogued base backup into a data directory, checking every byte on the way
/// along an unbroken chain: the catalog holds the SHA-256 of `manifest.json`, which holds those
/// of `backup_manifest` and the WAL tar, and `backup_manifest` (its own checksum checked) holds
/// every data file's, compared as the file is written. Nothing is read twice; the first
/// mismatch stops the restore, naming the file. Blocking: run it on the blocking executor.
enum BaseBackupExtractor {
    struct Summary: Sendable, Equatable {
        let files: Int
        let bytes: Int64
    }

    static func extract(backup directory: String, manifest: BackupManifest, into dataDirectory: String) throws -> Summary {
        guard let physical = manifest.physical else { throw BackupError("backup \(manifest.label) is not a physical backup") }
        let listed = Dictionary(manifest.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        // backup_manifest is read once: checked against manifest.json, then parsed.
        let manifestData = try BackupFileOpener.contents(of: PostgresBackupManifest.fileName, under: directory, limit: 1 << 30)
        try Self.check(PostgresBackupManifest.fileName, bytes: Int64(manifestData.count), sha256: FileDigest.sha256(of: manifestData), in: listed)
        if let walArchive = physical.walArchive {
            let digest = try FileDigest.sha256(ofFile: walArchive, under: directory)
            try Self.check(walArchive, bytes: digest.bytes, sha256: digest.sha256, in: listed)
        }
        var match = BackupManifestMatch(try PostgresBackupManifest(data: manifestData), archive: physical.baseArchive)
        if physical.isPlain { return try copyPlain(backup: directory, physical: physical, match: &match, into: dataDirectory) }
        let summary: SafeExtractor.Summary
        do {
            summary = try SafeExtractor.extractTree(
                archive: directory + "/" + physical.baseArchive, into: dataDirectory,
                entry: { try match.begin($0) }, data: { match.add($1) }
            )
            try match.end()
        } catch let error as ArchiveError {
            throw BackupError("\(physical.baseArchive) cannot be restored: \(error)")
        }
        let wal = dataDirectory + "/pg_wal"
        if let walArchive = physical.walArchive {
            do {
                _ = try SafeExtractor.extractTree(archive: directory + "/" + walArchive, into: wal)
            } catch let error as ArchiveError {
                throw BackupError("\(walArchive) cannot be restored: \(error)")
            }
        }
        try FileManager.default.createDirectory(atPath: wal + "/archive_status", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return Summary(files: summary.entries, bytes: summary.bytes)
    }

    /// A plain backup's copy, file by file, each checked against `backup_manifest` as it is
    /// written; its WAL (`pg_wal/`, not in the manifest) is copied as it is.
    private static func copyPlain(
        backup directory: String, physical: BackupManifest.PhysicalBackup, match: inout BackupManifestMatch, into dataDirectory: String
    ) throws -> Summary {
        let summary: SafeExtractor.Summary
        do {
            summary = try SafeExtractor.copyTree(
                from: directory + "/" + physical.baseArchive, into: dataDirectory,
                entry: { entry in
                    if BaseBackupCheck.walFileName(entry) != nil { try match.skip() } else { try match.begin(entry) }
                },
                data: { match.add($1) }
            )
            try match.end()
        } catch let error as ArchiveError {
            throw BackupError("\(physical.baseArchive)/ cannot be restored: \(error)")
        }
        try FileManager.default.createDirectory(atPath: dataDirectory + "/pg_wal/archive_status", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return Summary(files: summary.entries, bytes: summary.bytes)
    }

    /// A file of the backup as manifest.json lists it, or the restore stops.
    private static func check(_ name: String, bytes: Int64, sha256: String, in listed: [String: BackupManifest.FileRecord]) throws {
        guard let record = listed[name] else { throw BackupError("\(name) is not in manifest.json") }
        guard bytes == record.bytes, sha256 == record.sha256 else {
            throw BackupError("\(name) is corrupt: it differs from manifest.json (run `orchestrator backups verify` on this backup)")
        }
    }
}
