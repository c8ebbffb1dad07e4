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
        try readEntries(archive, name: path, entry: entry, data: data)
    }

    /// Reads an archive that another process is still writing (`GrowingFile`), following it to
    /// the end the writer declares. `observe` sees every stored (compressed) byte, in order.
    public static func read(
        growing file: GrowingFile,
        observe: @escaping (UnsafeRawBufferPointer) -> Void = { _ in },
        entry: (ArchiveEntry) throws -> Void = { _ in },
        data: (ArchiveEntry, UnsafeRawBufferPointer) throws -> Void = { _, _ in }
    ) throws {
        guard let archive = archive_read_new() else { throw ArchiveError(.io, "cannot allocate an archive reader") }
        defer { archive_read_free(archive) }
        archive_read_support_filter_all(archive)
        archive_read_support_format_tar(archive)
        let cursor = GrowingFile.Cursor(file: file, observe: observe)
        let context = Unmanaged.passUnretained(cursor).toOpaque()
        let opened = withExtendedLifetime(cursor) {
            archive_read_open(archive, context, nil, { _, context, buffer in
                let cursor = Unmanaged<GrowingFile.Cursor>.fromOpaque(context!).takeUnretainedValue()
                do {
                    let count = try cursor.next()
                    buffer?.pointee = UnsafeRawPointer(cursor.buffer)
                    return count
                } catch {
                    cursor.failure = error as? ArchiveError ?? ArchiveError(.io, "\(error)")
                    return -1
                }
            }, nil)
        }
        do {
            guard opened == ARCHIVE_OK else {
                throw cursor.failure ?? ArchiveError(.corrupt, "cannot read \(file.path): \(TarWriter.message(archive))")
            }
            try withExtendedLifetime(cursor) {
                try readEntries(archive, name: file.path, entry: entry, data: data)
            }
            // The tar ends before the file does (its end blocks, a compressor's last frame):
            // `observe` sees every stored byte, and the writer has finished, only at the end.
            while try cursor.next() > 0 {}
        } catch let error as ArchiveError {
            // A failed read surfaces from libarchive as "fatal"; the cursor knows why.
            throw cursor.failure ?? error
        }
    }

    private static func readEntries(
        _ archive: OpaquePointer, name: String,
        entry: (ArchiveEntry) throws -> Void, data: (ArchiveEntry, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var header: OpaquePointer?
        while true {
            let status = archive_read_next_header(archive, &header)
            if status == ARCHIVE_EOF { break }
            guard status >= ARCHIVE_WARN, let header else {
                throw ArchiveError(.corrupt, "\(name) is damaged: \(TarWriter.message(archive))")
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
                    throw ArchiveError(.corrupt, "\(name) is damaged in \(current.path): \(TarWriter.message(archive))")
                }
                if let block, size > 0 { try data(current, UnsafeRawBufferPointer(start: block, count: size)) }
            }
        }
    }
}
