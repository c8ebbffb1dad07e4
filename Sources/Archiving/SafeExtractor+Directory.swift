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
        var output: (descriptor: Int32, components: [[UInt8]], written: Int64, writebackStarted: Int64)?
        defer { if let output { close(output.descriptor) } }
        try DirectoryTreeReader.read(
            directory: source,
            entry: { current in
                try entry(current)
                let components = try ExtractionCheck.components(of: current)
                entries += 1
                switch current.kind {
                case .directory:
                    var info = stat()
                    guard lstat(source + "/" + String(decoding: current.path.bytes, as: UTF8.self), &info) == 0 else {
                        throw ArchiveError(.io, "cannot read \(current.path): \(String(cString: strerror(errno)))")
                    }
                    try target.directory(components, mode: mode_t(current.mode), time: info.st_mtim)
                case .file:
                    output = (try target.file(components), components, 0, 0)
                default:
                    return  // refused by the reader
                }
            },
            data: { current, block in
                try data(current, block)
                guard var file = output else { return }
                var done = 0
                while done < block.count {
                    let count = write(file.descriptor, block.baseAddress! + done, block.count - done)
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { throw ArchiveError(.io, "cannot write \(current.path): \(String(cString: strerror(errno)))") }
                    done += count
                }
                file.written += Int64(block.count)
                if file.written - file.writebackStarted >= writebackStep {
                    FileWriteback.start(file.descriptor, offset: file.writebackStarted, count: file.written - file.writebackStarted)
                    file.writebackStarted = file.written
                }
                output = file
            },
            fileEnd: { current, info in
                guard let file = output else { return }
                output = nil
                if file.written > file.writebackStarted {
                    FileWriteback.start(file.descriptor, offset: file.writebackStarted, count: file.written - file.writebackStarted)
                }
                bytes += file.written
                try target.finishFile(file.descriptor, path: file.components, size: file.written, mode: mode_t(current.mode), time: info.st_mtim)
            }
        )
        try target.finish()
        let root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if root >= 0 {
            defer { close(root) }
            guard syncfs(root) == 0 else { throw ArchiveError(.io, "cannot sync \(directory): \(String(cString: strerror(errno)))") }
        }
        return Summary(entries: entries, bytes: bytes)
    }
}
