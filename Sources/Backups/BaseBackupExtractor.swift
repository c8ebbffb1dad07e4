import Archiving
import Crypto
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
        for name in [PostgresBackupManifest.fileName] + (physical.walArchive.map { [$0] } ?? []) {
            guard let record = listed[name] else { throw BackupError("\(name) is not in manifest.json") }
            let digest = try FileDigest.sha256(ofFile: name, under: directory)
            guard digest.bytes == record.bytes, digest.sha256 == record.sha256 else {
                throw BackupError("\(name) is corrupt: it differs from manifest.json (run `orchestrator backups verify` on this backup)")
            }
        }
        let postgresManifest = try PostgresBackupManifest(
            data: try BackupFileOpener.contents(of: PostgresBackupManifest.fileName, under: directory, limit: 1 << 30)
        )
        var expected: [[UInt8]: PostgresBackupManifest.File] = [:]
        for file in postgresManifest.files { expected[file.path] = file }
        var hasher = SHA256()
        var seen = Set<[UInt8]>()
        let summary: SafeExtractor.Summary
        do {
            summary = try SafeExtractor.extractTree(
                archive: directory + "/" + physical.baseArchive, into: dataDirectory,
                observe: { _, block in hasher.update(bufferPointer: block) },
                finished: { entry in
                    defer { hasher = SHA256() }
                    guard let file = expected[entry.path.bytes] else {
                        throw BackupError("\(physical.baseArchive): \(entry.path) is not in backup_manifest")
                    }
                    guard entry.size == file.size else {
                        throw BackupError("\(physical.baseArchive): \(entry.path) has \(entry.size) bytes, backup_manifest says \(file.size)")
                    }
                    if let sha = file.sha256, hasher.finalize().map({ String(format: "%02x", $0) }).joined() != sha {
                        throw BackupError("\(physical.baseArchive): \(entry.path) is corrupt: SHA-256 differs from backup_manifest")
                    }
                    seen.insert(entry.path.bytes)
                }
            )
        } catch let error as ArchiveError {
            throw BackupError("\(physical.baseArchive) cannot be restored: \(error)")
        }
        if let missing = postgresManifest.files.first(where: { !seen.contains($0.path) }) {
            throw BackupError("\(physical.baseArchive): \(String(decoding: missing.path, as: UTF8.self)) is listed in backup_manifest but missing")
        }
        let wal = dataDirectory + "/pg_wal"
        if let walArchive = physical.walArchive {
            do {
                _ = try SafeExtractor.extractTree(archive: directory + "/" + walArchive, into: wal, observe: { _, _ in }, finished: { _ in })
            } catch let error as ArchiveError {
                throw BackupError("\(walArchive) cannot be restored: \(error)")
            }
        }
        try FileManager.default.createDirectory(atPath: wal + "/archive_status", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return Summary(files: summary.entries, bytes: summary.bytes)
    }
}
