/// Object keys: the endpoint's prefix joined with a checked relative path, and their
/// %-encoding for URLs.
enum S3Key {
    /// The key of `path` under `prefix`; paths follow `RemotePath`'s rules (relative, no '..',
    /// no empty component, no control character). "" is the prefix itself when allowed.
    static func key(_ path: String, prefix: String, allowsPrefix: Bool = false) throws(RemoteFileError) -> String {
        let checked = try RemotePath(path, base: "", allowsBase: allowsPrefix)
        if checked.relative.isEmpty { return prefix }
        return prefix.isEmpty ? checked.relative : prefix + "/" + checked.relative
    }

    /// RFC 3986: unreserved characters as they are, '/' kept, every other byte as %XX. SigV4
    /// signs S3 paths encoded exactly once in this form, so the URL sent is the one signed.
    static func encoded(_ key: String, keepingSlash: Bool = true) -> String {
        var encoded = ""
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepingSlash:
                encoded.unicodeScalars.append("/")
            default:
                encoded.unicodeScalars.append("%")
                encoded.unicodeScalars.append(hex[Int(byte >> 4)])
                encoded.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return encoded
    }

    /// A query string in SigV4's canonical form: parameters sorted by name, names and values
    /// fully encoded, "name=" for a parameter without value.
    static func query(_ parameters: [(String, String)]) -> String {
        parameters.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { encoded($0.0, keepingSlash: false) + "=" + encoded($0.1, keepingSlash: false) }
            .joined(separator: "&")
    }
}
