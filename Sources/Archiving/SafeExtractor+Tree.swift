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
    ///
    /// Decompression and tar parsing run on a thread of their own while `entry`, `data` and the
    /// writes run on the caller's (`TarReader.pipelined`): on a base backup, hashing and writing
    /// are most of the work, and the two halves then overlap. Entries are still handled one at
    /// a time, in the archive's order; the first error from either side stops both.
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
        // The file being written; its bytes follow its header.
        var writing: TreeFile?
        func finishOpen() throws {
            guard var file = writing else { return }
            writing = nil
            file.startWriteback()
            bytes += file.written
            // finishFile closes the descriptor, also when it fails.
            try target.finishFile(file.descriptor, path: file.components, size: file.entry.size, mode: mode_t(file.entry.mode), time: file.time)
            entries += 1
        }
        do {
            try TarReader.pipelined(path: path, refuseSparse: true, header: { header in
                try finishOpen()
                try entry(header.entry)
                let current = header.entry
                let components = try ExtractionCheck.components(of: current)
                switch current.kind {
                case .directory:
                    guard !components.isEmpty else { return }
                    try target.directory(components, mode: mode_t(current.mode), time: header.time)
                    entries += 1
                case .file:
                    guard !components.isEmpty else { throw ArchiveError(.unsafeEntry, "refused: entry \(current.path) would replace the target directory") }
                    writing = TreeFile(descriptor: try target.file(components), entry: current, components: components, time: header.time)
                case .symlink, .hardlink, .other:
                    throw ArchiveError(.unsafeEntry, "refused: entry \(current.path) is not a regular file or directory")
                }
            }, data: { block in
                // Only a file's entry has bytes to write (a directory's, if any, are skipped).
                guard writing != nil else { return }
                try data(writing!.entry, block)
                try writing!.append(block)
            })
            try finishOpen()
        } catch {
            if let writing { close(writing.descriptor) }
            throw error
        }
        try target.finish()
        try syncFileSystem(of: directory)
        return Summary(entries: entries, bytes: bytes)
    }

    /// Waits until everything written under `directory` is on disk (its whole file system).
    static func syncFileSystem(of directory: String) throws {
        let root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { return }
        defer { close(root) }
        guard syncfs(root) == 0 else { throw ArchiveError(.io, "cannot sync \(directory): \(String(cString: strerror(errno)))") }
    }

    static let writebackStep: Int64 = 8 << 20
}

/// A file of `extractTree` or `copyTree` being written, its bytes arriving in pieces.
struct TreeFile {
    let descriptor: Int32
    let entry: ArchiveEntry
    let components: [[UInt8]]
    let time: timespec
    private(set) var written: Int64 = 0
    private var writebackStarted: Int64 = 0

    init(descriptor: Int32, entry: ArchiveEntry, components: [[UInt8]], time: timespec) {
        self.descriptor = descriptor
        self.entry = entry
        self.components = components
        self.time = time
    }

    mutating func append(_ block: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < block.count {
            let count = write(descriptor, block.baseAddress! + done, block.count - done)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw ArchiveError(.io, "cannot write \(entry.path): \(String(cString: strerror(errno)))")
            }
            done += count
        }
        written += Int64(block.count)
        if written - writebackStarted >= SafeExtractor.writebackStep { startWriteback() }
    }

    /// Writeback starts while the tree is still being extracted (the disk works beside the
    /// decompression), so the final syncfs waits only for the tail.
    mutating func startWriteback() {
        guard written > writebackStarted else { return }
        FileWriteback.start(descriptor, offset: writebackStarted, count: written - writebackStarted)
        writebackStarted = written
    }
}
