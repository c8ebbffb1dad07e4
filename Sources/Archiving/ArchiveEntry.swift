import CArchive
import Foundation

/// One entry of an archive being read. Names and link targets are the bytes stored in the
/// archive, exactly as they were on disk.
public struct ArchiveEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case file
        case directory
        case symlink(target: ArchivePath)
        case hardlink(target: ArchivePath)
        case other
    }

    public let path: ArchivePath
    public let kind: Kind
    public let size: Int64
    public let mode: UInt32

    public init(path: ArchivePath, kind: Kind, size: Int64, mode: UInt32) {
        self.path = path
        self.kind = kind
        self.size = size
        self.mode = mode
    }

    /// Reads the current header's fields as raw bytes. Never converts through the locale:
    /// archives written by `TarWriter` say `hdrcharset=BINARY`, so libarchive hands the
    /// stored bytes over unchanged.
    static func describe(_ header: OpaquePointer) throws(ArchiveError) -> ArchiveEntry {
        guard let name = bytes(archive_entry_pathname(header)) else {
            throw ArchiveError(.corrupt, "an entry's name cannot be read (stored in a character set this process cannot convert)")
        }
        let kind: Kind
        if let hardlink = bytes(archive_entry_hardlink(header)) {
            kind = .hardlink(target: ArchivePath(bytes: hardlink))
        } else {
            // POSIX file type bits (S_IFMT and friends), spelled out: Glibc exports them ambiguously.
            switch archive_entry_filetype(header) & 0o170000 {
            case 0o100000: kind = .file
            case 0o040000: kind = .directory
            case 0o120000: kind = .symlink(target: ArchivePath(bytes: bytes(archive_entry_symlink(header)) ?? []))
            default: kind = .other
            }
        }
        // Directories are stored as "name/"; report them without the slash.
        var path = name
        if path.count > 1, path.last == UInt8(ascii: "/") { path.removeLast() }
        return ArchiveEntry(path: ArchivePath(bytes: path), kind: kind, size: archive_entry_size(header), mode: UInt32(archive_entry_perm(header)))
    }

    private static func bytes(_ text: UnsafePointer<CChar>?) -> [UInt8]? {
        guard let text else { return nil }
        return Array(UnsafeRawBufferPointer(start: text, count: strlen(text)))
    }
}
