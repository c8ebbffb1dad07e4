import Foundation

/// A path under the endpoint's base directory, checked once where it enters the API.
///
/// Relative and '/'-separated; absolute paths, empty components, '.', '..' and control
/// characters are refused, so no path can leave the base directory and none can break the
/// line-based directory listing or a quote command. Any other byte is allowed in a name:
/// spaces, '#', '%', non-ASCII, a leading '-' (they are %-encoded in URLs and quoted in commands).
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
        // libcurl reads a path starting with "/~" as relative to the home directory.
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

    /// The path as an argument of a libcurl quote command: in double quotes, with '\' and '"'
    /// escaped, which libcurl's parser undoes. Not %-encoded: quote arguments are taken as they are.
    var quoted: String { Self.quote(absolute) }

    static func quote(_ path: String) -> String {
        "\"" + path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The path %-encoded for a URL: every byte but the unreserved characters and '/'.
    /// libcurl decodes it back before using it.
    static func urlEncoded(_ path: String) -> String {
        var encoded = ""
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                encoded.unicodeScalars.append("%")
                encoded.unicodeScalars.append(hex[Int(byte >> 4)])
                encoded.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return encoded
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
