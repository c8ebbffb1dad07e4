import Archiving
import Foundation
import WALArchive

extension BaseBackupCheck {
    /// The WAL directory inside a plain backup's data directory: its files are not in
    /// `backup_manifest` (PostgreSQL lists data files only) and are checked as WAL instead.
    static let plainWALDirectory = "pg_wal"

    /// A plain-format backup: every file under its data directory against `backup_manifest`
    /// (listed, once, size and SHA-256, nothing missing, nothing extra, no links), and in
    /// `pg_wal/` every segment from start to stop, whole, with the header its name says.
    static func verifyPlain(directory: String, physical: BackupManifest.PhysicalBackup, manifest: PostgresBackupManifest) throws -> Report {
        var match = BackupManifestMatch(manifest, archive: physical.baseArchive + "/")
        var found: [String: (size: Int64, header: [UInt8])] = [:]
        var segment: String?
        do {
            try DirectoryTreeReader.read(
                directory: directory + "/" + physical.baseArchive,
                entry: { entry, _ in
                    segment = nil
                    guard let name = Self.walFileName(entry) else { return try match.begin(entry) }
                    try match.skip()
                    guard entry.kind == .file, name.utf8.count == 24 else { return }  // archive_status and the like
                    found[name] = (entry.size, [])
                    segment = name
                },
                data: { _, block in
                    guard let name = segment else { return match.add(block) }
                    guard var file = found[name], file.header.count < WALSegmentCheck.headerSize else { return }
                    file.header += block.prefix(WALSegmentCheck.headerSize - file.header.count)
                    found[name] = file
                }
            )
            try match.end()
        } catch let error as ArchiveError {
            throw BackupError("\(physical.baseArchive)/ cannot be read end to end: \(error)")
        }
        let segments = try checkSegments(found, physical: physical, source: physical.baseArchive + "/" + plainWALDirectory)
        return Report(files: match.files, bytes: match.bytes, segments: segments)
    }

    /// The name of a file or directory below `pg_wal/`, or nil for anything else.
    static func walFileName(_ entry: ArchiveEntry) -> String? {
        let path = String(decoding: entry.path.bytes, as: UTF8.self)
        let prefix = plainWALDirectory + "/"
        guard path.hasPrefix(prefix) else { return nil }
        return String(path.dropFirst(prefix.count))
    }
}
