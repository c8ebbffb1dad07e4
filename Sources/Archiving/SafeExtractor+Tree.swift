import CArchive
import Foundation

extension SafeExtractor {
    /// Extracts an archive of directories and regular files only — a PostgreSQL base backup's
    /// tar — in one pass, showing each entry to `entry` before it is written and every file's
    /// bytes to `data` as they are written, as `TarReader.read` does (to check them against a
    /// manifest without reading anything twice). A link, device or sparse entry
    /// is refused, so no entry can reach outside the directory and the two-pass link check of
    /// `extract` is not needed; names are still checked and written relative to the directory
    /// without following links. Files are synced with the directory's file system at the end.
    /// Blocking; use it from a dedicated thread.
    public static func extractTree(
        archive path: String, into directory: String,
        entry: (ArchiveEntry) throws -> Void = { _ in },
        data: (ArchiveEntry, UnsafeRawBufferPointer) throws -> Void = { _, _ in }
    ) throws -> Summary {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let target = try ExtractionTarget(directory: directory)
        var entries = 0
        var bytes: Int64 = 0
        try read(archive: path) { reader, header, current in
            try entry(current)
            let entry = current
            let components = try ExtractionCheck.components(of: entry)
            let time = timespec(tv_sec: archive_entry_mtime(header), tv_nsec: archive_entry_mtime_nsec(header))
            switch entry.kind {
            case .directory:
                guard !components.isEmpty else { return }
                try target.directory(components, mode: mode_t(entry.mode), time: time)
            case .file:
                guard !components.isEmpty else { throw ArchiveError(.unsafeEntry, "refused: entry \(entry.path) would replace the target directory") }
                let descriptor = try target.file(components)
                do {
                    bytes += try copySequential(from: reader, to: descriptor, entry: entry, archive: path, observe: data)
                } catch {
                    close(descriptor)
                    throw error
                }
                try target.finishFile(descriptor, path: components, size: entry.size, mode: mode_t(entry.mode), time: time)
            case .symlink, .hardlink, .other:
                throw ArchiveError(.unsafeEntry, "refused: entry \(entry.path) is not a regular file or directory")
            }
            entries += 1
        }
        try target.finish()
        let root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if root >= 0 {
            defer { close(root) }
            guard syncfs(root) == 0 else { throw ArchiveError(.io, "cannot sync \(directory): \(String(cString: strerror(errno)))") }
        }
        return Summary(entries: entries, bytes: bytes)
    }

    /// Writes the entry's blocks in order, showing each to `observe`; a hole (sparse entry) is refused.
    private static func copySequential(
        from reader: OpaquePointer, to descriptor: Int32, entry: ArchiveEntry, archive path: String,
        observe: (ArchiveEntry, UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int64 {
        var written: Int64 = 0
        var block: UnsafeRawPointer?
        var size = 0
        var offset: Int64 = 0
        // Writeback starts while the tree is still being extracted (the disk works beside the
        // decompression), so the final syncfs waits only for the tail.
        var writebackStarted: Int64 = 0
        func startWriteback() {
            guard written > writebackStarted else { return }
            FileWriteback.start(descriptor, offset: writebackStarted, count: written - writebackStarted)
            writebackStarted = written
        }
        while true {
            let result = archive_read_data_block(reader, &block, &size, &offset)
            if result == ARCHIVE_EOF {
                startWriteback()
                return written
            }
            guard result >= ARCHIVE_WARN else {
                throw ArchiveError(.corrupt, "\(path) is damaged in \(entry.path): \(TarWriter.message(reader))")
            }
            guard let block, size > 0 else { continue }
            guard offset == written else { throw ArchiveError(.unsafeEntry, "refused: entry \(entry.path) is sparse") }
            let buffer = UnsafeRawBufferPointer(start: block, count: size)
            try observe(entry, buffer)
            var done = 0
            while done < size {
                let count = write(descriptor, block + done, size - done)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    throw ArchiveError(.io, "cannot write \(entry.path): \(String(cString: strerror(errno)))")
                }
                done += count
            }
            written += Int64(size)
            if written - writebackStarted >= Self.writebackStep { startWriteback() }
        }
    }

    static let writebackStep: Int64 = 8 << 20
}
