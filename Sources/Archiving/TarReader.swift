import CArchive
import Foundation

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
            let current = try ArchiveEntry.describe(header)
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
}
