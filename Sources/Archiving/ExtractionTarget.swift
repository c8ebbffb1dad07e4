import Foundation

/// Writes entries under one open directory with the `*at` system calls, one component at a
/// time, never following a symbolic link (`O_NOFOLLOW` on every step).
///
/// Working relative to a directory descriptor keeps names as bytes, has no `PATH_MAX` limit
/// (a 4,000-byte path is fine; each component is at most `NAME_MAX`), never changes the
/// process's working directory, and cannot be sent elsewhere by a link on the way, whether the
/// archive or someone else put it there. Blocking; use it from a dedicated thread.
final class ExtractionTarget {
    private let root: Int32
    /// The parent directory of the last entry, kept open: entries come grouped by directory.
    private var cached: (path: [[UInt8]], descriptor: Int32)?
    /// Directory modes and times, applied at the end so a read-only directory is filled first.
    private var directories: [(path: [[UInt8]], mode: mode_t, time: timespec)] = []

    init(directory: String) throws(ArchiveError) {
        root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw ArchiveError(.io, "cannot open \(directory): \(Self.reason())") }
    }

    deinit {
        if let cached { close(cached.descriptor) }
        close(root)
    }

    func directory(_ path: [[UInt8]], mode: mode_t, time: timespec) throws(ArchiveError) {
        let descriptor = try openDirectory(path, create: true)
        if descriptor != root { close(descriptor) }
        directories.append((path, mode, time))
    }

    /// Creates a regular file (replacing a file or link of that name) and returns its descriptor.
    func file(_ path: [[UInt8]]) throws(ArchiveError) -> Int32 {
        let (parent, name) = try prepare(path)
        let descriptor = ArchivePath(bytes: name).withCString {
            openat(parent, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        guard descriptor >= 0 else { throw ArchiveError(.io, "cannot create \(Self.display(path)): \(Self.reason())") }
        return descriptor
    }

    func finishFile(_ descriptor: Int32, path: [[UInt8]], size: Int64, mode: mode_t, time: timespec) throws(ArchiveError) {
        defer { close(descriptor) }
        // A sparse file's hole at the end has no data block: the size comes from the header.
        var times = [time, time]
        guard ftruncate(descriptor, off_t(size)) == 0, fchmod(descriptor, mode & 0o1777) == 0, futimens(descriptor, &times) == 0 else {
            throw ArchiveError(.io, "cannot finish \(Self.display(path)): \(Self.reason())")
        }
    }

    func symlink(_ path: [[UInt8]], target: ArchivePath, time: timespec) throws(ArchiveError) {
        let (parent, name) = try prepare(path)
        let name_ = ArchivePath(bytes: name)
        let created = target.withCString { target in name_.withCString { symlinkat(target, parent, $0) } }
        guard created == 0 else { throw ArchiveError(.io, "cannot create link \(Self.display(path)): \(Self.reason())") }
        var times = [time, time]
        _ = name_.withCString { utimensat(parent, $0, &times, AT_SYMLINK_NOFOLLOW) }
    }

    func hardlink(_ path: [[UInt8]], target: [[UInt8]]) throws(ArchiveError) {
        let (parent, name) = try prepare(path)
        let targetParent = try openDirectory(Array(target.dropLast()), create: false)
        defer { if targetParent != root { close(targetParent) } }
        let linked = ArchivePath(bytes: target.last ?? []).withCString { old in
            ArchivePath(bytes: name).withCString { linkat(targetParent, old, parent, $0, 0) }
        }
        guard linked == 0 else { throw ArchiveError(.io, "cannot link \(Self.display(path)) to \(Self.display(target)): \(Self.reason())") }
    }

    /// Applies directory modes and times, deepest first (setting a child's time touches its parent).
    func finish() throws(ArchiveError) {
        for entry in directories.sorted(by: { $0.path.count > $1.path.count }) {
            let descriptor = try openDirectory(entry.path, create: false)
            var times = [entry.time, entry.time]
            let applied = fchmod(descriptor, entry.mode & 0o1777) == 0 && futimens(descriptor, &times) == 0
            if descriptor != root { close(descriptor) }
            guard applied else { throw ArchiveError(.io, "cannot set permissions of \(Self.display(entry.path)): \(Self.reason())") }
        }
    }

    /// The parent directory's descriptor and the name in it, with anything but a directory
    /// already at that name removed (extraction replaces files, as `tar` does).
    private func prepare(_ path: [[UInt8]]) throws(ArchiveError) -> (Int32, [UInt8]) {
        let parentPath = Array(path.dropLast())
        let parent: Int32
        if let cached, cached.path == parentPath {
            parent = cached.descriptor
        } else {
            parent = try openDirectory(parentPath, create: true)
            if let cached { close(cached.descriptor) }
            cached = parentPath.isEmpty ? nil : (parentPath, parent)
        }
        let name = path.last ?? []
        let removed = ArchivePath(bytes: name).withCString { unlinkat(parent, $0, 0) }
        guard removed == 0 || errno == ENOENT else {
            throw ArchiveError(.io, "cannot replace \(Self.display(path)): \(Self.reason())")
        }
        return (parent, name)
    }

    /// Opens `path` under the root one component at a time without following links, creating
    /// missing directories (mode 0700 until `finish`) when asked. The caller closes the
    /// result unless it is the root.
    private func openDirectory(_ path: [[UInt8]], create: Bool) throws(ArchiveError) -> Int32 {
        var current = root
        for (index, component) in path.enumerated() {
            let name = ArchivePath(bytes: component)
            if create {
                let made = name.withCString { mkdirat(current, $0, 0o700) }
                if made != 0 && errno != EEXIST {
                    let reason = Self.reason()
                    if current != root { close(current) }
                    throw ArchiveError(.io, "cannot create directory \(Self.display(Array(path.prefix(index + 1)))): \(reason)")
                }
            }
            let next = name.withCString { openat(current, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            let failure = errno
            if current != root { close(current) }
            guard next >= 0 else {
                let shown = Self.display(Array(path.prefix(index + 1)))
                if failure == ELOOP || failure == ENOTDIR {
                    throw ArchiveError(.unsafeEntry, "refused: \(shown) is a symbolic link or a file where a directory belongs; nothing is written through it")
                }
                throw ArchiveError(.io, "cannot open directory \(shown): \(String(cString: strerror(failure)))")
            }
            current = next
        }
        return current
    }

    private static func display(_ path: [[UInt8]]) -> ArchivePath {
        ArchivePath(bytes: Array(path.joined(separator: [UInt8(ascii: "/")])))
    }

    private static func reason() -> String {
        String(cString: strerror(errno))
    }
}
