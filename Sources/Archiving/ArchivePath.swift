/// A file name exactly as the file system stores it: bytes, not text.
///
/// Linux names are any bytes but `/` and NUL; they need not be UTF-8 and may hold newlines.
/// Names read from disk, written to an archive, read back and extracted stay these bytes end
/// to end, so a restore recreates every name identically whatever the process locale.
public struct ArchivePath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public init(_ text: String) {
        self.bytes = Array(text.utf8)
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public var isEmpty: Bool { bytes.isEmpty }
    public var isAbsolute: Bool { bytes.first == UInt8(ascii: "/") }

    /// Components between slashes; empty ones (`a//b`, a trailing slash) are dropped.
    public var components: [[UInt8]] {
        bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map(Array.init)
    }

    public func appending(_ component: [UInt8]) -> ArchivePath {
        guard !bytes.isEmpty else { return ArchivePath(bytes: component) }
        return ArchivePath(bytes: bytes + [UInt8(ascii: "/")] + component)
    }

    public func appending(_ other: ArchivePath) -> ArchivePath {
        appending(other.bytes)
    }

    /// The name as text when it is valid UTF-8, for callers that need a `String`.
    public var string: String? {
        String(validating: bytes, as: UTF8.self)
    }

    /// Calls `body` with the name as a NUL-terminated C string.
    public func withCString<T>(_ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        try (bytes + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    /// A printable, quoted form for messages: valid UTF-8 as is, control characters and
    /// quotes escaped, and every byte that is not UTF-8 as `\xNN`. Never fails.
    public var description: String {
        var text = "\""
        var index = 0
        while index < bytes.count {
            let length = Self.scalarLength(bytes, at: index)
            if length == 0 {
                text += "\\x" + Self.hex(bytes[index])
                index += 1
                continue
            }
            let scalar = String(decoding: bytes[index..<index + length], as: UTF8.self)
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\t": text += "\\t"
            case "\r": text += "\\r"
            default:
                if length == 1, bytes[index] < 0x20 || bytes[index] == 0x7f {
                    text += "\\x" + Self.hex(bytes[index])
                } else if let value = scalar.unicodeScalars.first, Self.isInvisible(value) {
                    // C1 controls, line separators, bidi overrides: they could fake a log line.
                    text += "\\u{" + String(value.value, radix: 16) + "}"
                } else {
                    text += scalar
                }
            }
            index += length
        }
        return text + "\""
    }

    private static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }

    /// The length of the valid UTF-8 sequence starting at `index`, or 0 when it is not one.
    private static func scalarLength(_ bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        let length: Int
        switch lead {
        case 0x00...0x7f: return 1
        case 0xc2...0xdf: length = 2
        case 0xe0...0xef: length = 3
        case 0xf0...0xf4: length = 4
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        // Let the standard library judge overlong forms, surrogates and range.
        return String(validating: bytes[index..<index + length], as: UTF8.self) == nil ? 0 : length
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
    }
}
