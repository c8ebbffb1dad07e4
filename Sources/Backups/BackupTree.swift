import Foundation

/// Everything a backup directory holds, read with `lstat` (never through a link): each entry's
/// path relative to the root, its type and its permission bits. Directories are listed too, so
/// an extra or loosened directory is seen, not only files.
struct BackupTree {
    struct Entry: Equatable {
        let path: String
        /// `st_mode & S_IFMT`.
        let type: mode_t
        let permissions: mode_t

        var isDirectory: Bool { type == S_IFDIR }
    }

    /// The root directory itself (path "").
    let root: Entry
    /// Every entry below the root, sorted by path.
    let entries: [Entry]

    /// Backups promise data only their owner may read: files 0600, directories 0700.
    static let filePermissions: mode_t = 0o600
    static let directoryPermissions: mode_t = 0o700

    init(reading directory: String) throws {
        root = try Self.entry("", at: directory)
        guard root.isDirectory else { throw BackupError("\(directory) is \(BackupFileOpener.kind(root.type)), not a backup directory") }
        var found: [Entry] = []
        func walk(_ relative: String) throws {
            let absolute = relative.isEmpty ? directory : directory + "/" + relative
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: absolute)
            } catch {
                throw BackupError("cannot list \(relative.isEmpty ? directory : relative): \(error.localizedDescription)")
            }
            for name in names {
                let child = relative.isEmpty ? name : relative + "/" + name
                let entry = try Self.entry(child, at: directory + "/" + child)
                found.append(entry)
                if entry.isDirectory { try walk(child) }
            }
        }
        try walk("")
        entries = found.sorted { $0.path < $1.path }
    }

    /// Paths of everything that is not a directory (links, FIFOs and the like included, so they
    /// are compared with the manifest and refused rather than read through).
    var nonDirectories: [String] { entries.filter { !$0.isDirectory }.map(\.path) }

    /// Directories the listed files need: every ancestor of every listed path.
    static func directories(holding paths: some Sequence<String>) -> Set<String> {
        var result: Set<String> = []
        for path in paths {
            var components = path.split(separator: "/").dropLast()
            while !components.isEmpty {
                result.insert(components.joined(separator: "/"))
                components = components.dropLast()
            }
        }
        return result
    }

    private static func entry(_ relative: String, at absolute: String) throws -> Entry {
        var info = stat()
        guard lstat(absolute, &info) == 0 else {
            throw BackupError("cannot inspect \(relative.isEmpty ? absolute : relative): \(String(cString: strerror(errno)))")
        }
        return Entry(path: relative, type: info.st_mode & S_IFMT, permissions: info.st_mode & 0o7777)
    }
}
