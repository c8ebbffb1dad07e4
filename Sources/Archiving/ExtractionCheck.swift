/// Decides, from the whole archive, whether extracting it could place or leave anything
/// outside the target directory.
///
/// A name-only check is not enough: `d/l2 -> ..` then `d/l1 -> l2/..` each look harmless, but
/// together leave `d/l1` pointing above the target. So every link target is resolved the way
/// the kernel will resolve it after extraction, following the links the archive itself
/// creates (in any order), and a `..` may only climb out of a directory the archive creates.
/// No entry may be written through a link, and a path may not be both a directory and
/// something else.
struct ExtractionCheck {
    private enum Shape: Equatable {
        case directory
        case symlink
        case other
    }

    private var shapes: [[[UInt8]]: Shape] = [:]
    /// The last target of each link: the one left on disk.
    private var linkTargets: [[[UInt8]]: ArchivePath] = [:]
    private var entries: [(path: [[UInt8]], entry: ArchiveEntry)] = []
    /// Directories that extraction creates implicitly, as parents of entries.
    private var parents: Set<[[UInt8]]> = []

    private static let dot: [UInt8] = [UInt8(ascii: ".")]
    private static let dotDot: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: ".")]
    /// As the kernel (MAXSYMLINKS): a resolution needing more expansions is a loop.
    private static let maximumExpansions = 40

    /// The components of an entry's name under the target, refusing names that leave it.
    static func components(of entry: ArchiveEntry) throws(ArchiveError) -> [[UInt8]] {
        guard !entry.path.isEmpty else { throw ArchiveError(.unsafeEntry, "refused: an entry has an empty name") }
        guard !entry.path.isAbsolute else {
            throw ArchiveError(.unsafeEntry, "refused: entry \(entry.path) has an absolute path")
        }
        let components = entry.path.components
        guard !components.contains(dotDot) else {
            throw ArchiveError(.unsafeEntry, "refused: entry \(entry.path) contains '..'")
        }
        return components.filter { $0 != dot }
    }

    /// Takes note of one entry; checks that need the whole archive happen in `finish`.
    mutating func add(_ entry: ArchiveEntry) throws(ArchiveError) {
        let path = try Self.components(of: entry)
        if path.isEmpty {
            // "." or "./": the target directory itself.
            guard entry.kind == .directory else {
                throw ArchiveError(.unsafeEntry, "refused: entry \(entry.path) would replace the target directory")
            }
            return
        }
        let shape: Shape
        switch entry.kind {
        case .directory: shape = .directory
        case .symlink(let target):
            shape = .symlink
            linkTargets[path] = target
        case .hardlink(let target):
            shape = .other
            guard !target.isAbsolute, !target.components.contains(Self.dotDot) else {
                throw ArchiveError(.unsafeEntry, "refused: hard link \(entry.path) points outside the target (\(target))")
            }
        case .file, .other: shape = .other
        }
        if let earlier = shapes[path], earlier != shape {
            throw ArchiveError(.unsafeEntry, "refused: \(entry.path) appears twice, as different types of entry")
        }
        shapes[path] = shape
        for length in 1..<max(path.count, 1) { parents.insert(Array(path.prefix(length))) }
        entries.append((path, entry))
    }

    /// Checks every entry against the archive as a whole.
    func finish() throws(ArchiveError) {
        for (path, entry) in entries {
            try checkParents(of: path, name: entry.path)
            switch entry.kind {
            case .symlink(let target):
                try resolve(link: path, name: entry.path, target: target)
            case .hardlink(let target):
                let targetPath = target.components.filter { $0 != Self.dot }
                guard !targetPath.isEmpty else {
                    throw ArchiveError(.unsafeEntry, "refused: hard link \(entry.path) has an empty target")
                }
                try checkParents(of: targetPath, name: target)
            case .file, .directory, .other:
                break
            }
        }
    }

    /// Refuses a path written through a link or below something that is not a directory.
    private func checkParents(of path: [[UInt8]], name: ArchivePath) throws(ArchiveError) {
        for length in stride(from: 1, to: path.count, by: 1) {
            let prefix = Array(path.prefix(length))
            switch shapes[prefix] {
            case .symlink?:
                throw ArchiveError(.unsafeEntry, "refused: entry \(name) would be written through the symbolic link \(Self.display(prefix))")
            case .other?:
                throw ArchiveError(.unsafeEntry, "refused: entry \(name) is below \(Self.display(prefix)), which is not a directory")
            case .directory?, nil:
                break
            }
        }
    }

    /// Resolves a link's target as the kernel will once everything is extracted.
    private func resolve(link: [[UInt8]], name: ArchivePath, target: ArchivePath) throws(ArchiveError) {
        func refuse(_ why: String) -> ArchiveError {
            ArchiveError(.unsafeEntry, "refused: link \(name) points outside the target (\(target)): \(why)")
        }
        guard !target.isAbsolute else {
            throw ArchiveError(.unsafeEntry, "refused: link \(name) points to absolute path \(target)")
        }
        // Where resolution stands, and whether each step is a directory the archive creates
        // (only those may be left with '..': anything else could be a link already on disk).
        var stack: [(component: [UInt8], known: Bool)] = link.dropLast().map { ($0, true) }
        var pending = target.components[...]
        var expansions = 0
        while let component = pending.popFirst() {
            if component == Self.dot { continue }
            if component == Self.dotDot {
                guard let last = stack.popLast() else { throw refuse("it climbs above the target directory") }
                guard last.known else {
                    throw refuse("it climbs out of \(Self.display([last.component])), which the archive does not create as a directory")
                }
                continue
            }
            let candidate = stack.map(\.component) + [component]
            if let next = linkTargets[candidate] {
                expansions += 1
                guard expansions <= Self.maximumExpansions else { throw refuse("too many levels of symbolic links") }
                guard !next.isAbsolute else { throw refuse("it goes through \(Self.display(candidate)), a link to an absolute path") }
                pending = (next.components + pending)[...]
                continue
            }
            let known = shapes[candidate] == .directory || parents.contains(candidate)
            stack.append((component, known))
        }
    }

    private static func display(_ path: [[UInt8]]) -> ArchivePath {
        ArchivePath(bytes: Array(path.joined(separator: [UInt8(ascii: "/")])))
    }
}
