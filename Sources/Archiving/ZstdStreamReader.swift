import CArchive
import Foundation

/// Decompresses a plain zstd stream (what `ZstdStreamWriter` writes; skippable frames are
/// passed over), streaming each decompressed block to a callback. Anything that is not zstd is
/// refused rather than passed through as raw bytes. Blocking; use it from a dedicated thread.
public enum ZstdStreamReader {
    /// Reads from the current offset of `descriptor` (owned by the caller) to its end.
    public static func decompress(descriptor: Int32, name: String, into body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let archive = archive_read_new() else { throw ArchiveError(.io, "cannot allocate an archive reader") }
        defer { archive_read_free(archive) }
        archive_read_support_filter_zstd(archive)
        archive_read_support_format_raw(archive)
        guard archive_read_open_fd(archive, descriptor, 256 * 1024) == ARCHIVE_OK else {
            throw ArchiveError(.corrupt, "cannot read \(name) as zstd: \(TarWriter.message(archive))")
        }
        var header: OpaquePointer?
        guard archive_read_next_header(archive, &header) == ARCHIVE_OK else {
            throw ArchiveError(.corrupt, "cannot read \(name) as zstd: \(TarWriter.message(archive))")
        }
        // The raw format accepts any bytes; only a recognised zstd stream is decompressed.
        guard archive_filter_count(archive) == 2, archive_filter_code(archive, 0) == ARCHIVE_FILTER_ZSTD else {
            throw ArchiveError(.corrupt, "\(name) is not a zstd stream")
        }
        var block: UnsafeRawPointer?
        var size = 0
        var offset: Int64 = 0
        while true {
            let result = archive_read_data_block(archive, &block, &size, &offset)
            if result == ARCHIVE_EOF { return }
            guard result == ARCHIVE_OK else {
                throw ArchiveError(.corrupt, "\(name) is damaged: \(TarWriter.message(archive))")
            }
            if let block, size > 0 { try body(UnsafeRawBufferPointer(start: block, count: size)) }
        }
    }
}
