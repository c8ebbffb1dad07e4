import CArchive
import Foundation

/// Writes a (compressed) pax tar archive, streaming: memory stays constant whatever the size of
/// the files. Blocking; use it from a dedicated thread (see `Archiver`).
public final class TarWriter {
    private var archive: OpaquePointer?
    private let path: String
    private var buffer = [UInt8](repeating: 0, count: 256 * 1024)
    public private(set) var entries = 0
    public private(set) var bytes: Int64 = 0

    /// Creates `path` with mode 0600 (backups hold data people must not read by accident).
    public init(path: String, compression: ArchiveCompression) throws(ArchiveError) {
        self.path = path
        guard let archive = archive_write_new() else { throw ArchiveError(.io, "cannot allocate an archive writer") }
        self.archive = archive
        guard archive_write_set_format_pax_restricted(archive) == ARCHIVE_OK, compression.apply(to: archive) >= ARCHIVE_WARN else {
            let message = Self.message(archive)
            archive_write_free(archive)
            self.archive = nil
            throw ArchiveError(.unsupported, "cannot set up \(compression.rawValue) tar output: \(message)")
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            archive_write_free(archive)
            self.archive = nil
            throw ArchiveError(.io, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        // libarchive takes the descriptor; it does not close it, so close after finish.
        self.descriptor = descriptor
        guard archive_write_open_fd(archive, descriptor) == ARCHIVE_OK else {
            let message = Self.message(archive)
            archive_write_free(archive)
            self.archive = nil
            Foundation.close(descriptor)
            throw ArchiveError(.io, "cannot open \(path) for writing: \(message)")
        }
    }

    private var descriptor: Int32 = -1

    deinit {
        if let archive { archive_write_free(archive) }
        if descriptor >= 0 { Foundation.close(descriptor) }
    }

    /// Adds one regular file, directory or symbolic link (the link itself, never its target).
    public func add(fileAt source: String, as name: String) throws(ArchiveError) {
        guard let archive else { throw ArchiveError(.io, "archive \(path) is already finished") }
        var info = stat()
        guard lstat(source, &info) == 0 else {
            throw ArchiveError(.io, "cannot stat \(source): \(String(cString: strerror(errno)))")
        }
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname_utf8(entry, name)
        archive_entry_copy_stat(entry, &info)
        archive_entry_set_uname(entry, nil)
        archive_entry_set_gname(entry, nil)
        let type = info.st_mode & S_IFMT
        var sourceDescriptor: Int32 = -1
        if type == S_IFLNK {
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(source, &target, target.count - 1)
            guard length >= 0 else { throw ArchiveError(.io, "cannot read link \(source): \(String(cString: strerror(errno)))") }
            target[length] = 0
            archive_entry_set_symlink_utf8(entry, target)
            archive_entry_set_size(entry, 0)
        } else if type == S_IFREG {
            sourceDescriptor = open(source, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard sourceDescriptor >= 0 else { throw ArchiveError(.io, "cannot open \(source): \(String(cString: strerror(errno)))") }
        } else if type != S_IFDIR {
            return  // sockets, fifos and devices are not backed up
        }
        defer { if sourceDescriptor >= 0 { Foundation.close(sourceDescriptor) } }
        guard archive_write_header(archive, entry) >= ARCHIVE_WARN else {
            throw ArchiveError(.io, "cannot write header for \(name) to \(path): \(Self.message(archive))")
        }
        entries += 1
        guard sourceDescriptor >= 0 else { return }
        // Write exactly the size announced in the header, even if the file changes meanwhile.
        var remaining = Int64(info.st_size)
        while remaining > 0 {
            let want = Int(min(Int64(buffer.count), remaining))
            let got = buffer.withUnsafeMutableBytes { read(sourceDescriptor, $0.baseAddress, want) }
            if got < 0 { throw ArchiveError(.io, "cannot read \(source): \(String(cString: strerror(errno)))") }
            if got == 0 {
                throw ArchiveError(.io, "\(source) shrank while being archived (\(remaining) bytes missing)")
            }
            let written = buffer.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, got) }
            guard written == got else { throw ArchiveError(.io, "cannot write \(name) to \(path): \(Self.message(archive))") }
            remaining -= Int64(got)
            bytes += Int64(got)
        }
    }

    /// Adds `root` (a file or a directory tree) under `prefix`, skipping excluded paths and
    /// never following symbolic links.
    public func add(tree root: String, as prefix: String, filter: PathFilter) throws(ArchiveError) {
        var info = stat()
        guard lstat(root, &info) == 0 else {
            throw ArchiveError(.io, "cannot stat \(root): \(String(cString: strerror(errno)))")
        }
        try add(fileAt: root, as: prefix)
        guard info.st_mode & S_IFMT == S_IFDIR else { return }
        let children: [String]
        do {
            children = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        } catch {
            throw ArchiveError(.io, "cannot list \(root): \(error.localizedDescription)")
        }
        try addChildren(of: root, names: children, relative: "", prefix: prefix, filter: filter)
    }

    private func addChildren(of directory: String, names: [String], relative: String, prefix: String, filter: PathFilter) throws(ArchiveError) {
        for name in names {
            let relativePath = relative.isEmpty ? name : relative + "/" + name
            if filter.excludes(relativePath) { continue }
            let full = directory + "/" + name
            try add(fileAt: full, as: prefix + "/" + relativePath)
            var info = stat()
            if lstat(full, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
                let children: [String]
                do {
                    children = try FileManager.default.contentsOfDirectory(atPath: full).sorted()
                } catch {
                    throw ArchiveError(.io, "cannot list \(full): \(error.localizedDescription)")
                }
                try addChildren(of: full, names: children, relative: relativePath, prefix: prefix, filter: filter)
            }
        }
    }

    /// Writes the end-of-archive marker and flushes; the file is complete only after this.
    public func finish() throws(ArchiveError) {
        guard let archive else { return }
        let closed = archive_write_close(archive)
        let message = Self.message(archive)
        archive_write_free(archive)
        self.archive = nil
        let synced = fsync(descriptor)
        Foundation.close(descriptor)
        descriptor = -1
        guard closed == ARCHIVE_OK else { throw ArchiveError(.io, "cannot finish \(path): \(message)") }
        guard synced == 0 else { throw ArchiveError(.io, "cannot flush \(path) to disk: \(String(cString: strerror(errno)))") }
    }

    /// libarchive's message, with the system error behind it ("Write error: No space left on device").
    static func message(_ archive: OpaquePointer) -> String {
        let text = archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
        let code = archive_errno(archive)
        guard code > 0, let reason = strerror(code).map({ String(cString: $0) }), !text.contains(reason) else { return text }
        return "\(text): \(reason)"
    }
}
