import Archiving
import Crypto

/// Matches the members of a base backup's data-directory tar, as they are read, against
/// PostgreSQL's `backup_manifest`: each file listed, once, with the listed size and SHA-256;
/// directories pass; links and devices are refused; at the end nothing listed is missing.
/// Verification (`BaseBackupCheck`) and restore (`BaseBackupExtractor`) feed it the same way:
/// `begin` at each entry, `add` for its bytes, `end` after the last one; members hashed before
/// the manifest existed (`ArchiveMemberDigests`) go through the same checks with `match(_:)`.
struct BackupManifestMatch {
    /// The tar's name, for messages.
    let archive: String
    private let listed: [PostgresBackupManifest.File]
    private let expected: [[UInt8]: PostgresBackupManifest.File]
    private var seen = Set<[UInt8]>()
    private var current: (path: ArchivePath, file: PostgresBackupManifest.File, hasher: SHA256, size: Int64, known: String?)?
    /// Bytes of the files matched so far.
    private(set) var bytes: Int64 = 0
    var files: Int { seen.count }

    init(_ manifest: PostgresBackupManifest, archive: String) {
        self.archive = archive
        listed = manifest.files
        var expected: [[UInt8]: PostgresBackupManifest.File] = [:]
        for file in manifest.files { expected[file.path] = file }
        self.expected = expected
    }

    /// The next entry: closes the one before, then opens this one if it is a file.
    mutating func begin(_ entry: ArchiveEntry) throws {
        try endFile()
        switch entry.kind {
        case .directory:
            return
        case .file:
            guard let file = expected[entry.path.bytes] else {
                throw BackupError("\(archive): \(entry.path) is not in backup_manifest")
            }
            guard seen.insert(entry.path.bytes).inserted else {
                throw BackupError("\(archive): \(entry.path) appears twice")
            }
            current = (entry.path, file, SHA256(), 0, nil)
        case .symlink, .hardlink, .other:
            throw BackupError("\(archive): \(entry.path) is not a regular file or directory (tablespace links are not supported)")
        }
    }

    /// An entry that is not the manifest's business (a plain backup's WAL): closes the one
    /// before; its bytes are not matched.
    mutating func skip() throws {
        try endFile()
    }

    mutating func add(_ block: UnsafeRawBufferPointer) {
        current?.hasher.update(bufferPointer: block)
        current?.size += Int64(block.count)
    }

    /// Every member recorded while the tar was read, then `end()`: the same checks, in the
    /// tar's order, with the digests already taken.
    mutating func match(_ members: [ArchiveMemberDigests.Member]) throws {
        for member in members {
            try begin(member.entry)
            if current != nil {
                current!.size = member.size
                current!.known = member.sha256
            }
        }
        try end()
    }

    /// After the last entry: closes it and checks nothing listed is missing.
    mutating func end() throws {
        try endFile()
        if let missing = listed.first(where: { !seen.contains($0.path) }) {
            throw BackupError("\(archive): \(String(decoding: missing.path, as: UTF8.self)) is listed in backup_manifest but missing")
        }
    }

    private mutating func endFile() throws {
        guard let open = current else { return }
        current = nil
        guard open.size == open.file.size else {
            throw BackupError("\(archive): \(open.path) has \(open.size) bytes, backup_manifest says \(open.file.size)")
        }
        if let sha = open.file.sha256, (open.known ?? open.hasher.finalize().map({ String(format: "%02x", $0) }).joined()) != sha {
            throw BackupError("\(archive): \(open.path) is corrupt: SHA-256 differs from backup_manifest")
        }
        bytes += open.size
    }
}
