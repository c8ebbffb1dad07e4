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
        let components = relativePath.split(separator: "/").map(String.init)
        for pattern in patterns {
            if pattern.contains("/") {
                let trimmed = pattern.hasPrefix("/") ? String(pattern.dropFirst()) : pattern
                if fnmatch(trimmed, relativePath, FNM_PATHNAME) == 0 { return true }
                // A directory pattern also excludes everything under it.
                var prefix = ""
                for component in components.dropLast() {
                    prefix += prefix.isEmpty ? component : "/" + component
                    if fnmatch(trimmed, prefix, FNM_PATHNAME) == 0 { return true }
                }
            } else if components.contains(where: { fnmatch(pattern, $0, 0) == 0 }) {
                return true
            }
        }
        return false
    }
}
