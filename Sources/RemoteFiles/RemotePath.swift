import Foundation

/// A path under the endpoint's base directory, checked once where it enters the API.
///
/// Relative and '/'-separated; absolute paths, empty components, '.', '..' and control
/// characters are refused, so no path can leave the base directory and none can break the
/// line-based listings of other tools. Any other byte is allowed in a name: spaces, '#', '%',
/// non-ASCII, a leading '-' (SFTP carries names as length-prefixed strings, never parsed).
struct RemotePath: Sendable, Equatable {
    /// As given, relative to the base ("" is the base itself).
    let relative: String
    /// The absolute path on the server.
    let absolute: String

    init(_ relative: String, base: String, allowsBase: Bool = false) throws(RemoteFileError) {
        if relative.isEmpty {
            guard allowsBase else { throw Self.refused(relative, "it is empty") }
            self.relative = relative
            absolute = base
            return
        }
        guard !relative.hasPrefix("/") else { throw Self.refused(relative, "it is absolute; paths are relative to the endpoint's directory") }
        let components = relative.split(separator: "/", omittingEmptySubsequences: false)
        for component in components {
            if component.isEmpty { throw Self.refused(relative, "it has an empty component") }
            if component == "." || component == ".." { throw Self.refused(relative, "it has a '\(component)' component") }
            if component.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw Self.refused(relative, "it has a control character")
            }
        }
        // Some SFTP clients and servers read a path starting with "/~" as the home directory.
        if base == "/" && relative.hasPrefix("~") {
            throw Self.refused(relative, "a name starting with '~' directly under '/' would be read as the home directory")
        }
        self.relative = relative
        absolute = base == "/" ? "/" + relative : base + "/" + relative
    }

    /// `name` inside this directory.
    func appending(_ name: String, base: String) throws(RemoteFileError) -> RemotePath {
        try RemotePath(relative.isEmpty ? name : relative + "/" + name, base: base)
    }

    /// The same path with `suffix` added to its last name (e.g. ".part").
    func withSuffix(_ suffix: String) -> RemotePath {
        RemotePath(uncheckedRelative: relative + suffix, absolute: absolute + suffix)
    }

    /// The directories above this path, shallowest first (below the base).
    var ancestors: [String] { Array(selfAndAncestors.dropLast()) }

    /// Each directory from the first component down to this path itself, shallowest first.
    var selfAndAncestors: [String] {
        guard !relative.isEmpty else { return [] }
        let depth = relative.split(separator: "/").count
        var paths: [String] = []
        var current = absolute
        for _ in 0..<depth {
            paths.insert(current, at: 0)
            current = String(current[..<current.lastIndex(of: "/")!])
        }
        return paths
    }

    private init(uncheckedRelative: String, absolute: String) {
        relative = uncheckedRelative
        self.absolute = absolute
    }

    private static func refused(_ path: String, _ reason: String) -> RemoteFileError {
        let shown = String(path.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
        return RemoteFileError(.invalidPath, "the remote path \"\(shown)\" is refused: \(reason)")
    }
}
