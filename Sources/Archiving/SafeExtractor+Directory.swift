import CArchive
import Foundation

extension SafeExtractor {
    /// Copies a tree of directories and regular files only — a plain-format base backup — into
    /// `directory`, as `extractTree` extracts a tar: each entry is shown to `entry` before it
    /// is written and every file's bytes to `data` as they are written, so they can be checked
    /// against a manifest in the same pass. The source is read by `DirectoryTreeReader` (no
    /// link followed or copied); names are checked and written relative to the target without
    /// following links. Files are written back while the copy runs and synced with the
    /// target's file system at the end. Blocking; use it from a dedicated thread.
    public static func copyTree(
        from source: String, into directory: String,
        entry: (ArchiveEntry) throws -> Void = { _ in },
        data: (ArchiveEntry, UnsafeRawBufferPointer) throws -> Void = { _, _ in }
    ) throws -> Summary {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let target = try ExtractionTarget(directory: directory)
        var entries = 0
        var bytes: Int64 = 0
        var output: TreeFile?
        defer { if let output { close(output.descriptor) } }
        try DirectoryTreeReader.read(
            directory: source,
            entry: { current, info in
                try entry(current)
                let components = try ExtractionCheck.components(of: current)
                entries += 1
                switch current.kind {
                case .directory:
                    try target.directory(components, mode: mode_t(current.mode), time: info.st_mtim)
                case .file:
                    output = TreeFile(descriptor: try target.file(components), entry: current, components: components, time: info.st_mtim)
                default:
                    return  // refused by the reader
                }
            },
            data: { current, block in
                try data(current, block)
                try output?.append(block)
            },
            fileEnd: { _ in
                guard var file = output else { return }
                output = nil
                file.startWriteback()
                bytes += file.written
                // finishFile closes the descriptor, also when it fails.
                try target.finishFile(file.descriptor, path: file.components, size: file.written, mode: mode_t(file.entry.mode), time: file.time)
            }
        )
        try target.finish()
        try syncFileSystem(of: directory)
        return Summary(entries: entries, bytes: bytes)
    }
}
