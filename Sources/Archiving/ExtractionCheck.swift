/// Decides, from the whole archive, whether extracting it could place or leave anything
/// outside the target directory.
///
/// A name-only check is not enough: `d/l2 -> ..` then `d/l1 -> l2/..` each look harmless, but
/// together leave `d/l1` pointing above the target. So every link target is resolved the way
/// the kernel will resolve it after extraction, following the links the archive itself
/// creates (in any order), and a `..` may only climb out of a directory the archive creates.
/// No entry may be written through a link of the archive. Only directories and links are
/// remembered, so memory stays small for archives of millions of files.
struct ExtractionCheck {
    /// Directories the archive creates, explicitly or as parents of entries ("a/b" as bytes).
    private var directories: Set<[UInt8]> = []
    /// The last target of each link: the one left on disk.
    private var links: [[UInt8]: ArchivePath] = [:]
    /// Link entries in archive order, each checked once all links are known.
    private var linkEntries: [(path: [[UInt8]], name: ArchivePath, target: ArchivePath)] = []

    private static let slash = UInt8(ascii: "/")
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

    /// Checks one entry against everything before it; link targets are checked in `finish`.
    mutating func add(_ entry: ArchiveEntry) throws(ArchiveError) {
        let path = try Self.components(of: entry)
        if path.isEmpty {
            // "." or "./": the target directory itself.
            guard entry.kind == .directory else {
                throw ArchiveError(.unsafeEntry, "refused: entry \(entry.path) would replace the target directory")
            }
            return
        }
        try checkParents(of: path, name: entry.path)
        let key = Self.key(path)
        switch entry.kind {
        case .directory:
            guard links[key] == nil else { throw Self.twice(entry.path) }
            directories.insert(key)
        case .symlink(let target):
            guard !directories.contains(key) else { throw Self.twice(entry.path) }
            links[key] = target
            linkEntries.append((path, entry.path, target))
        case .hardlink(let target):
            guard !target.isAbsolute, !target.components.contains(Self.dotDot) else {
                throw ArchiveError(.unsafeEntry, "refused: hard link \(entry.path) points outside the target (\(target))")
            }
            try checkParents(of: target.components.filter { $0 != Self.dot }, name: target)
        case .file, .other:
            break
        }
        // A known parent means all of its own parents are known too.
        for length in stride(from: path.count - 1, to: 0, by: -1) {
            guard directories.insert(Self.key(Array(path.prefix(length)))).inserted else { break }
        }
    }

    /// Resolves every link target once all links of the archive are known.
    func finish() throws(ArchiveError) {
        for link in linkEntries {
            try resolve(link: link.path, name: link.name, target: link.target)
        }
    }

    /// Refuses a path that would be written through a link of the archive.
    private func checkParents(of path: [[UInt8]], name: ArchivePath) throws(ArchiveError) {
        guard !links.isEmpty else { return }
        for length in stride(from: 1, to: path.count, by: 1) {
            let prefix = Self.key(Array(path.prefix(length)))
            if links[prefix] != nil {
                throw ArchiveError(.unsafeEntry, "refused: entry \(name) would be written through the symbolic link \(ArchivePath(bytes: prefix))")
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
                    throw refuse("it climbs out of \(ArchivePath(bytes: last.component)), which the archive does not create as a directory")
                }
                continue
            }
            let candidate = Self.key(stack.map(\.component) + [component])
            if let next = links[candidate] {
                expansions += 1
                guard expansions <= Self.maximumExpansions else { throw refuse("too many levels of symbolic links") }
                guard !next.isAbsolute else {
                    throw refuse("it goes through \(ArchivePath(bytes: candidate)), a link to an absolute path")
                }
                pending = (next.components + pending)[...]
                continue
            }
            stack.append((component, directories.contains(candidate)))
        }
    }

    private static func key(_ components: [[UInt8]]) -> [UInt8] {
        Array(components.joined(separator: [slash]))
    }

    private static func twice(_ name: ArchivePath) -> ArchiveError {
        ArchiveError(.unsafeEntry, "refused: \(name) appears twice, as a directory and as a symbolic link")
    }
}
