import Archiving
import Foundation
import WALArchive

/// Reads a base backup end to end against PostgreSQL's `backup_manifest`, the checks
/// `pg_verifybackup` makes (which in PostgreSQL 15 cannot read tar backups): every file of the
/// data directory's tar is in the manifest with its size and SHA-256, nothing listed is
/// missing, nothing unlisted is present, the manifest's own checksum holds, and the WAL tar
/// holds every segment from the backup's start to its end, whole and with the header its name
/// says. The first problem fails, naming the file. Blocking: run it on the blocking executor.
package enum BaseBackupCheck {
    struct Report: Sendable, Equatable {
        let files: Int
        let bytes: Int64
        let segments: Int
    }

    /// Data files matched against `backup_manifest`.
    package struct Members: Sendable, Equatable {
        package let files: Int
        package let bytes: Int64
    }

    /// `matched`: the data tar's members were already matched, as it was written (a fresh
    /// backup, `BaseBackupFollower`); everything else is still checked.
    static func verify(directory: String, physical: BackupManifest.PhysicalBackup, matched: Members? = nil) throws -> Report {
        let manifestData = try BackupFileOpener.contents(of: PostgresBackupManifest.fileName, under: directory, limit: 1 << 30)
        let manifest = try PostgresBackupManifest(data: manifestData)
        guard manifest.walRanges.first?.start == physical.startPosition, manifest.walRanges.last?.end == physical.stopPosition else {
            throw BackupError("backup_manifest's WAL range differs from the catalogued one (\(physical.startPosition)-\(physical.stopPosition))")
        }
        if physical.isPlain { return try verifyPlain(directory: directory, physical: physical, manifest: manifest) }
        let members = try matched ?? matchMembers(directory: directory, physical: physical, manifest: manifest)
        let segments = try checkWAL(directory: directory, physical: physical)
        return Report(files: members.files, bytes: members.bytes, segments: segments)
    }

    private static func matchMembers(directory: String, physical: BackupManifest.PhysicalBackup, manifest: PostgresBackupManifest) throws -> Members {
        var match = BackupManifestMatch(manifest, archive: physical.baseArchive)
        do {
            try TarReader.readPipelined(path: directory + "/" + physical.baseArchive, entry: { try match.begin($0) }, data: { match.add($1) })
            try match.end()
        } catch let error as ArchiveError {
            throw BackupError("\(physical.baseArchive) cannot be read end to end: \(error)")
        }
        return Members(files: match.files, bytes: match.bytes)
    }

    /// Every segment from the start to the end of the backup, whole, with a matching header.
    private static func checkWAL(directory: String, physical: BackupManifest.PhysicalBackup) throws -> Int {
        guard let walArchive = physical.walArchive else { return 0 }
        var found: [String: (size: Int64, header: [UInt8])] = [:]
        var currentName: String?
        do {
            try TarReader.read(path: directory + "/" + walArchive, entry: { entry in
                currentName = nil
                guard entry.kind == .file else { return }
                let name = String(decoding: entry.path.bytes, as: UTF8.self)
                guard name.utf8.count == 24 else { return }  // archive_status files and the like
                found[name] = (entry.size, [])
                currentName = name
            }, data: { _, block in
                guard let name = currentName, var file = found[name], file.header.count < WALSegmentCheck.headerSize else { return }
                file.header += block.prefix(WALSegmentCheck.headerSize - file.header.count)
                found[name] = file
            })
        } catch let error as ArchiveError {
            throw BackupError("\(walArchive) cannot be read end to end: \(error)")
        }
        return try checkSegments(found, physical: physical, source: walArchive)
    }

    /// The segments found (name → size and first bytes) hold every one from the start to the
    /// end of the backup, whole, with the header each name says; `source` names where they are.
    static func checkSegments(_ found: [String: (size: Int64, header: [UInt8])], physical: BackupManifest.PhysicalBackup, source: String) throws -> Int {
        let size = physical.walSegmentSize
        let first = physical.startPosition.value / UInt64(size)
        let last = physical.stopPosition.value / UInt64(size)
        for number in first...last {
            let name = WALPosition(number * UInt64(size)).segmentName(timeline: physical.timeline, segmentSize: UInt64(size))
            guard let file = found[name] else {
                throw BackupError("\(source) lacks WAL segment \(name), which the backup needs to be consistent")
            }
            guard file.size == size else {
                throw BackupError("\(source): segment \(name) has \(file.size) bytes, not \(size)")
            }
            do {
                try WALSegmentCheck.check(try WALFileName(name), size: size, header: file.header)
            } catch {
                throw BackupError("\(source): \(error)")
            }
        }
        return Int(last - first + 1)
    }
}
