import CArchive
import Foundation

/// Extracts an archive under one directory and nowhere else, ever.
///
/// The whole archive is checked before anything is written (`ExtractionCheck`): an absolute
/// path, a `..` component, an entry written through a link, or a link whose target — followed
/// through the other links of the archive — leaves the directory rejects the archive, naming
/// the entry. Extraction then works relative to the directory's descriptor and never follows
/// a link (`ExtractionTarget`), as a second line of defence. Names are extracted as the bytes
/// stored. Blocking; use it from a dedicated thread.
public enum SafeExtractor {
    public struct Summary: Sendable, Equatable {
        public let entries: Int
        public let bytes: Int64
    }

    public static func extract(archive path: String, into directory: String) throws -> Summary {
        try validate(archive: path)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let target = try ExtractionTarget(directory: directory)
        var entries = 0
        var bytes: Int64 = 0
        try read(archive: path) { reader, header, entry in
            let components = try ExtractionCheck.components(of: entry)
            let time = timespec(tv_sec: archive_entry_mtime(header), tv_nsec: archive_entry_mtime_nsec(header))
            switch entry.kind {
            case .directory:
                guard !components.isEmpty else { return }
                try target.directory(components, mode: mode_t(entry.mode), time: time)
            case .file:
                let descriptor = try target.file(components)
                do {
                    bytes += try copyData(from: reader, to: descriptor, entry: entry, archive: path)
                } catch {
                    close(descriptor)
                    throw error
                }
                try target.finishFile(descriptor, path: components, size: entry.size, mode: mode_t(entry.mode), time: time)
            case .symlink(let link):
                try target.symlink(components, target: link, time: time)
            case .hardlink(let link):
                try target.hardlink(components, target: link.components.filter { $0 != [UInt8(ascii: ".")] })
            case .other:
                return  // devices and fifos are never restored
            }
            entries += 1
        }
        try target.finish()
        return Summary(entries: entries, bytes: bytes)
    }

    /// Rejects the archive if any entry could land, or leave a link pointing, outside the
    /// extraction directory.
    public static func validate(archive path: String) throws {
        var check = ExtractionCheck()
        try TarReader.read(path: path, entry: { entry in
            try check.add(entry)
        })
        try check.finish()
    }

    /// Calls `body` with the reader, the header and the entry of each entry in turn.
    static func read(archive path: String, _ body: (OpaquePointer, OpaquePointer, ArchiveEntry) throws -> Void) throws {
        guard let reader = archive_read_new() else { throw ArchiveError(.io, "cannot allocate an archive reader") }
        defer { archive_read_free(reader) }
        archive_read_support_filter_all(reader)
        archive_read_support_format_tar(reader)
        guard archive_read_open_filename(reader, path, 256 * 1024) == ARCHIVE_OK else {
            throw ArchiveError(.io, "cannot open \(path): \(TarWriter.message(reader))")
        }
        var header: OpaquePointer?
        while true {
            let status = archive_read_next_header(reader, &header)
            if status == ARCHIVE_EOF { break }
            guard status >= ARCHIVE_WARN, let header else {
                throw ArchiveError(.corrupt, "\(path) is damaged: \(TarWriter.message(reader))")
            }
            try body(reader, header, try ArchiveEntry.describe(header))
        }
    }

    /// Writes the entry's data blocks at their offsets (holes of sparse files stay holes).
    static func copyData(from reader: OpaquePointer, to descriptor: Int32, entry: ArchiveEntry, archive path: String) throws -> Int64 {
        var written: Int64 = 0
        var block: UnsafeRawPointer?
        var size = 0
        var offset: Int64 = 0
        while true {
            let result = archive_read_data_block(reader, &block, &size, &offset)
            if result == ARCHIVE_EOF { return written }
            guard result >= ARCHIVE_WARN else {
                throw ArchiveError(.corrupt, "\(path) is damaged in \(entry.path): \(TarWriter.message(reader))")
            }
            guard let block else { continue }
            var done = 0
            while done < size {
                let count = pwrite(descriptor, block + done, size - done, off_t(offset) + off_t(done))
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    throw ArchiveError(.io, "cannot write \(entry.path): \(String(cString: strerror(errno)))")
                }
                done += count
            }
            written += Int64(size)
        }
    }
}
