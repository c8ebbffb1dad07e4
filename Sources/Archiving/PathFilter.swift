import Foundation

/// Exclusion rules for file sets: a pattern without `/` matches any path component
/// (`node_modules`, `*.log`); a pattern with `/` matches the path relative to the root
/// (`logs/archive/*`). Matching uses shell globbing (`fnmatch`).
public struct PathFilter: Sendable, Equatable {
    public let patterns: [String]

    public init(excluding patterns: [String]) {
        self.patterns = patterns
    }

    /// True when `relativePath` (no leading slash) is excluded.
    public func excludes(_ relativePath: String) -> Bool {
        excludes(ArchivePath(relativePath))
    }

    /// True when `relativePath` (no leading slash) is excluded. Names are matched as bytes, so
    /// a name that is not UTF-8 is matched like any other.
    public func excludes(_ relativePath: ArchivePath) -> Bool {
        let components = relativePath.components.map { ArchivePath(bytes: $0) }
        for pattern in patterns {
            if pattern.contains("/") {
                let trimmed = pattern.hasPrefix("/") ? String(pattern.dropFirst()) : pattern
                if Self.matches(trimmed, relativePath, flags: FNM_PATHNAME) { return true }
                // A directory pattern also excludes everything under it.
                var prefix = ArchivePath(bytes: [])
                for component in components.dropLast() {
                    prefix = prefix.appending(component)
                    if Self.matches(trimmed, prefix, flags: FNM_PATHNAME) { return true }
                }
            } else if components.contains(where: { Self.matches(pattern, $0, flags: 0) }) {
                return true
            }
        }
        return false
    }

    private static func matches(_ pattern: String, _ path: ArchivePath, flags: Int32) -> Bool {
        path.withCString { fnmatch(pattern, $0, flags) == 0 }
    }
}
