import Archiving
import Crypto

/// The members of a base backup's data tar with their sizes and SHA-256, recorded while the
/// tar is read before its `backup_manifest` exists (`pg_basebackup` writes that file last), to
/// be matched against it afterwards (`BackupManifestMatch.match(_:)`). Fed like the match:
/// `begin` at each entry, `add` for its bytes, `end` after the last one.
struct ArchiveMemberDigests {
    struct Member: Sendable, Equatable {
        let entry: ArchiveEntry
        var size: Int64
        /// Lower-case hex; nil for anything but a regular file.
        var sha256: String?
    }

    private(set) var members: [Member] = []
    private var hasher: SHA256?

    mutating func begin(_ entry: ArchiveEntry) {
        end()
        members.append(Member(entry: entry, size: 0, sha256: nil))
        hasher = entry.kind == .file ? SHA256() : nil
    }

    mutating func add(_ block: UnsafeRawBufferPointer) {
        guard hasher != nil else { return }
        hasher!.update(bufferPointer: block)
        members[members.count - 1].size += Int64(block.count)
    }

    mutating func end() {
        guard let open = hasher else { return }
        hasher = nil
        members[members.count - 1].sha256 = open.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
