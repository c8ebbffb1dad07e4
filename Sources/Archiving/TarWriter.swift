import CArchive
import Foundation

/// Writes a (compressed) pax tar archive, streaming: memory stays constant whatever the size of
/// the files. Names and link targets are stored as the bytes on disk (pax `hdrcharset=BINARY`),
/// never converted through the process locale, so any name a file system allows round-trips.
/// Blocking; use it from a dedicated thread (see `Archiver`).
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
        // BINARY: names are copied verbatim; the UTF-8 default converts from the locale, which in
        // the C locale fails for every non-ASCII name.
        guard archive_write_set_format_pax_restricted(archive) == ARCHIVE_OK,
              archive_write_set_options(archive, "hdrcharset=BINARY") == ARCHIVE_OK,
              compression.apply(to: archive) >= ARCHIVE_WARN else {
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
        try add(fileAt: ArchivePath(source), as: ArchivePath(name))
    }

    /// Adds one regular file, directory or symbolic link (the link itself, never its target).
    public func add(fileAt source: ArchivePath, as name: ArchivePath) throws(ArchiveError) {
        _ = try add(source, in: AT_FDCWD, shownAs: source, as: name)
    }

    /// Adds `root` (a file or a directory tree) under `prefix`, skipping excluded paths and
    /// never following symbolic links. Below `root` the walk goes from directory descriptor to
    /// directory descriptor with names as bytes from `readdir`, so neither names that are not
    /// UTF-8 nor paths longer than `PATH_MAX` stop it.
    public func add(tree root: String, as prefix: String, filter: PathFilter) throws(ArchiveError) {
        let root = ArchivePath(root)
        guard try add(root, in: AT_FDCWD, shownAs: root, as: ArchivePath(prefix)) else { return }
        try addChildren(of: root, in: AT_FDCWD, shownAs: root, relative: ArchivePath(bytes: []), prefix: ArchivePath(prefix), filter: filter)
    }

    private func addChildren(
        of name: ArchivePath, in parent: Int32, shownAs shown: ArchivePath, relative: ArchivePath, prefix: ArchivePath, filter: PathFilter
    ) throws(ArchiveError) {
        let directory = name.withCString { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard directory >= 0 else { throw ArchiveError(.io, "cannot open directory \(shown): \(Self.reason())") }
        defer { Foundation.close(directory) }
        for child in try DirectoryListing.names(in: directory, shownAs: shown) {
            let relativePath = relative.appending(child)
            if filter.excludes(relativePath) { continue }
            let childName = ArchivePath(bytes: child)
            let childShown = shown.appending(child)
            if try add(childName, in: directory, shownAs: childShown, as: prefix.appending(relativePath)) {
                try addChildren(of: childName, in: directory, shownAs: childShown, relative: relativePath, prefix: prefix, filter: filter)
            }
        }
    }

    /// Writes the entry for `source` (relative to `parent`); returns whether it is a directory.
    private func add(_ source: ArchivePath, in parent: Int32, shownAs shown: ArchivePath, as name: ArchivePath) throws(ArchiveError) -> Bool {
        guard let archive else { throw ArchiveError(.io, "archive \(path) is already finished") }
        var info = stat()
        guard source.withCString({ fstatat(parent, $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            throw ArchiveError(.io, "cannot stat \(shown): \(Self.reason())")
        }
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        // The raw-bytes setters: no conversion, so no name can fail (or come back NULL).
        name.withCString { archive_entry_copy_pathname(entry, $0) }
        archive_entry_copy_stat(entry, &info)
        archive_entry_set_uname(entry, nil)
        archive_entry_set_gname(entry, nil)
        let type = info.st_mode & S_IFMT
        var sourceDescriptor: Int32 = -1
        if type == S_IFLNK {
            var target = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = source.withCString { link in
                target.withUnsafeMutableBytes { readlinkat(parent, link, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count - 1) }
            }
            guard length >= 0 else { throw ArchiveError(.io, "cannot read link \(shown): \(Self.reason())") }
            ArchivePath(bytes: Array(target[0..<length])).withCString { archive_entry_copy_symlink(entry, $0) }
            archive_entry_set_size(entry, 0)
        } else if type == S_IFREG {
            sourceDescriptor = source.withCString { openat(parent, $0, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
            guard sourceDescriptor >= 0 else { throw ArchiveError(.io, "cannot open \(shown): \(Self.reason())") }
        } else if type != S_IFDIR {
            return false  // sockets, fifos and devices are not backed up
        }
        defer { if sourceDescriptor >= 0 { Foundation.close(sourceDescriptor) } }
        guard archive_write_header(archive, entry) >= ARCHIVE_WARN else {
            throw ArchiveError(.io, "cannot write header for \(name) to \(path): \(Self.message(archive))")
        }
        entries += 1
        guard sourceDescriptor >= 0 else { return type == S_IFDIR }
        // Write exactly the size announced in the header, even if the file changes meanwhile.
        var remaining = Int64(info.st_size)
        while remaining > 0 {
            let want = Int(min(Int64(buffer.count), remaining))
            let got = buffer.withUnsafeMutableBytes { read(sourceDescriptor, $0.baseAddress, want) }
            if got < 0 { throw ArchiveError(.io, "cannot read \(shown): \(Self.reason())") }
            if got == 0 {
                throw ArchiveError(.io, "\(shown) shrank while being archived (\(remaining) bytes missing)")
            }
            let written = buffer.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, got) }
            guard written == got else { throw ArchiveError(.io, "cannot write \(name) to \(path): \(Self.message(archive))") }
            remaining -= Int64(got)
            bytes += Int64(got)
        }
        return false
    }

    private static func reason() -> String {
        String(cString: strerror(errno))
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
