import CArchive
import Foundation

/// Compresses one byte stream into a plain zstd stream (libarchive's raw format with its zstd
/// filter: no tar header, so `zstd -d` reads the result). Memory stays constant whatever the
/// input size. Writes to a descriptor the caller owns: it neither closes nor syncs it, so the
/// caller decides when the bytes are durable. Blocking; use it from a dedicated thread.
public final class ZstdStreamWriter {
    private var archive: OpaquePointer?
    private let name: String

    /// `name` only labels error messages. `level` is zstd's (1 fastest ... 19; 3 is zstd's default).
    /// `compressionThreads` 0 compresses inside `write`, on the caller's thread; 1 or more hands
    /// the compression to that many zstd threads, so that the caller's next work (reading and
    /// hashing the next input) runs beside it. The output is a valid zstd stream either way. A
    /// libarchive that does not know the option (a warning, not an error) leaves `write`
    /// compressing on the caller's thread; only Debian's libarchive 3.6 with a threaded libzstd
    /// was tried.
    public init(descriptor: Int32, name: String, level: Int = 3, compressionThreads: Int = 0) throws(ArchiveError) {
        self.name = name
        guard let archive = archive_write_new() else { throw ArchiveError(.io, "cannot allocate an archive writer") }
        self.archive = archive
        // No blocking and no padding: padding after the last frame is not valid zstd.
        guard archive_write_set_format_raw(archive) == ARCHIVE_OK,
              archive_write_add_filter_zstd(archive) == ARCHIVE_OK,
              archive_write_set_filter_option(archive, "zstd", "compression-level", String(level)) == ARCHIVE_OK,
              compressionThreads == 0 || archive_write_set_filter_option(archive, "zstd", "threads", String(compressionThreads)) != ARCHIVE_FATAL,
              archive_write_set_bytes_per_block(archive, 0) == ARCHIVE_OK,
              archive_write_set_bytes_in_last_block(archive, 1) == ARCHIVE_OK,
              archive_write_open_fd(archive, descriptor) == ARCHIVE_OK else {
            let message = TarWriter.message(archive)
            archive_write_free(archive)
            self.archive = nil
            throw ArchiveError(.unsupported, "cannot set up zstd output for \(name): \(message)")
        }
        // The raw format takes exactly one regular-file entry; its name is not stored.
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, "data")
        archive_entry_set_filetype(entry, 0o100000)  // AE_IFREG (a macro Swift does not import)
        guard archive_write_header(archive, entry) == ARCHIVE_OK else {
            let message = TarWriter.message(archive)
            archive_write_free(archive)
            self.archive = nil
            throw ArchiveError(.io, "cannot start zstd output for \(name): \(message)")
        }
    }

    deinit {
        if let archive { archive_write_free(archive) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        guard let archive else { throw ArchiveError(.io, "zstd output for \(name) is already finished") }
        guard bytes.count > 0 else { return }
        let written = archive_write_data(archive, bytes.baseAddress, bytes.count)
        guard written == bytes.count else {
            throw ArchiveError(.io, "cannot write \(name): \(TarWriter.message(archive))")
        }
    }

    /// Ends the zstd frame and writes out what is buffered. The descriptor stays open.
    public func finish() throws(ArchiveError) {
        guard let archive else { return }
        let closed = archive_write_close(archive)
        let message = TarWriter.message(archive)
        archive_write_free(archive)
        self.archive = nil
        guard closed == ARCHIVE_OK else { throw ArchiveError(.io, "cannot finish \(name): \(message)") }
    }
}
