import CArchive
import Foundation

/// One entry of an archive being read.
public struct ArchiveEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case file
        case directory
        case symlink(target: String)
        case hardlink(target: String)
        case other
    }

    public let path: String
    public let kind: Kind
    public let size: Int64
    public let mode: UInt32
}

/// Reads an archive end to end, streaming each file's bytes to a callback. A truncated or
/// corrupted archive fails here (every compressed block and tar header is decoded), which a
/// listing of names alone would not notice. Blocking; use it from a dedicated thread.
public enum TarReader {
    public static func read(
        path: String,
        entry: (ArchiveEntry) throws -> Void = { _ in },
        data: (ArchiveEntry, UnsafeRawBufferPointer) throws -> Void = { _, _ in }
    ) throws {
        guard let archive = archive_read_new() else { throw ArchiveError(.io, "cannot allocate an archive reader") }
        defer { archive_read_free(archive) }
        archive_read_support_filter_all(archive)
        archive_read_support_format_tar(archive)
        guard archive_read_open_filename(archive, path, 256 * 1024) == ARCHIVE_OK else {
            throw ArchiveError(.io, "cannot open \(path): \(TarWriter.message(archive))")
        }
        var header: OpaquePointer?
        while true {
            let status = archive_read_next_header(archive, &header)
            if status == ARCHIVE_EOF { break }
            guard status >= ARCHIVE_WARN, let header else {
                throw ArchiveError(.corrupt, "\(path) is damaged: \(TarWriter.message(archive))")
            }
            let current = describe(header)
            try entry(current)
            var block: UnsafeRawPointer?
            var size = 0
            var offset: Int64 = 0
            while true {
                let result = archive_read_data_block(archive, &block, &size, &offset)
                if result == ARCHIVE_EOF { break }
                guard result >= ARCHIVE_WARN else {
                    throw ArchiveError(.corrupt, "\(path) is damaged in \(current.path): \(TarWriter.message(archive))")
                }
                if let block, size > 0 { try data(current, UnsafeRawBufferPointer(start: block, count: size)) }
            }
        }
    }

    static func describe(_ header: OpaquePointer) -> ArchiveEntry {
        let path = archive_entry_pathname_utf8(header).map { String(cString: $0) }
            ?? archive_entry_pathname(header).map { String(cString: $0) } ?? ""
        let kind: ArchiveEntry.Kind
        if let hardlink = archive_entry_hardlink(header) {
            kind = .hardlink(target: String(cString: hardlink))
        } else {
            // POSIX file type bits (S_IFMT and friends), spelled out: Glibc exports them ambiguously.
            switch archive_entry_filetype(header) & 0o170000 {
            case 0o100000: kind = .file
            case 0o040000: kind = .directory
            case 0o120000: kind = .symlink(target: archive_entry_symlink(header).map { String(cString: $0) } ?? "")
            default: kind = .other
            }
        }
        // Directories are stored as "name/"; report them without the slash.
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        return ArchiveEntry(path: trimmed, kind: kind, size: archive_entry_size(header), mode: UInt32(archive_entry_perm(header)))
    }
}
