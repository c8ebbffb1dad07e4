import CArchive
import Foundation

/// Extracts an archive under one directory and nowhere else.
///
/// The whole archive is checked before anything is written: an absolute path, a `..`
/// component, or a link whose target leaves the directory rejects the archive, naming the
/// entry. Extraction then also runs with libarchive's secure flags (no writing through
/// symbolic links), as a second line of defence. Blocking; use it from a dedicated thread.
public enum SafeExtractor {
    public struct Summary: Sendable, Equatable {
        public let entries: Int
        public let bytes: Int64
    }

    public static func extract(archive path: String, into directory: String) throws -> Summary {
        try validate(archive: path)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let root = URL(fileURLWithPath: directory).standardizedFileURL.path

        guard let reader = archive_read_new() else { throw ArchiveError(.io, "cannot allocate an archive reader") }
        defer { archive_read_free(reader) }
        archive_read_support_filter_all(reader)
        archive_read_support_format_tar(reader)
        guard let writer = archive_write_disk_new() else { throw ArchiveError(.io, "cannot allocate a disk writer") }
        defer { archive_write_free(writer) }
        // Entries are re-rooted to absolute paths under `root` below, so the no-absolute-paths
        // flag cannot be used; `validate` already refused absolute names.
        let flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_SYMLINKS
            | ARCHIVE_EXTRACT_SECURE_NODOTDOT
        archive_write_disk_set_options(writer, flags)
        guard archive_read_open_filename(reader, path, 256 * 1024) == ARCHIVE_OK else {
            throw ArchiveError(.io, "cannot open \(path): \(TarWriter.message(reader))")
        }
        var entries = 0
        var bytes: Int64 = 0
        var header: OpaquePointer?
        while true {
            let status = archive_read_next_header(reader, &header)
            if status == ARCHIVE_EOF { break }
            guard status >= ARCHIVE_WARN, let header else {
                throw ArchiveError(.corrupt, "\(path) is damaged: \(TarWriter.message(reader))")
            }
            let entry = TarReader.describe(header)
            let relative = normalized(entry.path)
            archive_entry_set_pathname_utf8(header, root + "/" + relative)
            if case .hardlink(let target) = entry.kind {
                archive_entry_set_hardlink_utf8(header, root + "/" + normalized(target))
            }
            guard archive_write_header(writer, header) >= ARCHIVE_WARN else {
                throw ArchiveError(.io, "cannot extract \(entry.path): \(TarWriter.message(writer))")
            }
            var block: UnsafeRawPointer?
            var size = 0
            var offset: Int64 = 0
            while true {
                let result = archive_read_data_block(reader, &block, &size, &offset)
                if result == ARCHIVE_EOF { break }
                guard result >= ARCHIVE_WARN else {
                    throw ArchiveError(.corrupt, "\(path) is damaged in \(entry.path): \(TarWriter.message(reader))")
                }
                guard archive_write_data_block(writer, block, size, offset) >= ARCHIVE_WARN else {
                    throw ArchiveError(.io, "cannot write \(entry.path): \(TarWriter.message(writer))")
                }
                bytes += Int64(size)
            }
            guard archive_write_finish_entry(writer) >= ARCHIVE_WARN else {
                throw ArchiveError(.io, "cannot finish \(entry.path): \(TarWriter.message(writer))")
            }
            entries += 1
        }
        return Summary(entries: entries, bytes: bytes)
    }

    /// Rejects the archive if any entry could land outside the extraction directory.
    public static func validate(archive path: String) throws {
        try TarReader.read(path: path, entry: { entry in
            try check(entry)
        })
    }

    static func check(_ entry: ArchiveEntry) throws {
        guard !entry.path.isEmpty else { throw ArchiveError(.unsafeEntry, "refused: an entry has an empty name") }
        guard !entry.path.hasPrefix("/") else {
            throw ArchiveError(.unsafeEntry, "refused: entry \(entry.path.debugDescription) has an absolute path")
        }
        guard !entry.path.split(separator: "/").contains("..") else {
            throw ArchiveError(.unsafeEntry, "refused: entry \(entry.path.debugDescription) contains '..'")
        }
        switch entry.kind {
        case .symlink(let target):
            guard !target.hasPrefix("/") else {
                throw ArchiveError(.unsafeEntry, "refused: link \(entry.path.debugDescription) points to absolute path \(target.debugDescription)")
            }
            // Resolve the target against the link's own directory; it must stay inside.
            var depth = entry.path.split(separator: "/").count - 1
            for component in target.split(separator: "/") {
                if component == ".." { depth -= 1 } else if component != "." { depth += 1 }
                guard depth >= 0 else {
                    throw ArchiveError(.unsafeEntry, "refused: link \(entry.path.debugDescription) points outside the target (\(target.debugDescription))")
                }
            }
        case .hardlink(let target):
            guard !target.hasPrefix("/"), !target.split(separator: "/").contains("..") else {
                throw ArchiveError(.unsafeEntry, "refused: hard link \(entry.path.debugDescription) points outside the target (\(target.debugDescription))")
            }
        case .file, .directory, .other:
            break
        }
    }

    private static func normalized(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }
}
