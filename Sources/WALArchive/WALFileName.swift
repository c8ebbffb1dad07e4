/// A file name PostgreSQL hands to `archive_command` (`%p`'s last component) or asks of
/// `restore_command` (`%f`). Only the shapes PostgreSQL makes are accepted, as bytes, so a
/// name can never carry a path separator, `..`, a space or a non-ASCII character into the
/// repository:
///
/// * segment  `TTTTTTTTLLLLLLLLSSSSSSSS`            (timeline, log, segment: 24 upper-case hex digits)
/// * partial  `TTTTTTTTLLLLLLLLSSSSSSSS.partial`    (the last segment of a timeline left at promotion)
/// * backup   `TTTTTTTTLLLLLLLLSSSSSSSS.OOOOOOOO.backup` (a base backup's label; O = start offset)
/// * history  `TTTTTTTT.history`                    (how a timeline branched off its parent)
package struct WALFileName: Sendable, Hashable, CustomStringConvertible {
    package enum Kind: String, Sendable, Hashable {
        case segment, partial, backup, history
    }

    package let name: String
    package let kind: Kind
    package let timeline: UInt32
    /// The log and segment parts of the name (zero for history files).
    package let log: UInt32
    package let segment: UInt32

    package var description: String { name }

    /// The 16 hex digits of timeline and log: the directory a segment lives in.
    package var timelineAndLog: String { String(name.utf8.prefix(16))! }

    /// The 8 hex digits of the timeline.
    package var timelineHex: String { String(name.utf8.prefix(8))! }

    /// Whether the file is a whole segment (segment or partial): its size and first page are checked.
    package var isSegmentSized: Bool { kind == .segment || kind == .partial }

    package init(_ text: String) throws(WALArchiveError) {
        let bytes = Array(text.utf8)
        let shown = Self.shown(text)
        func refuse(_ why: String) -> WALArchiveError {
            WALArchiveError(.refused, "\(shown) is not a WAL file name PostgreSQL archives (\(why)); expected a segment like 000000010000000000000001, or NAME.partial, NAME.OOOOOOOO.backup, TTTTTTTT.history")
        }
        guard bytes.count <= 40 else { throw refuse("too long") }
        if bytes.count == 16, Self.hex(bytes[0..<8]) != nil, Array(bytes[8...]) == Array(".history".utf8) {
            kind = .history
            log = 0
            segment = 0
        } else {
            guard bytes.count >= 24, Self.hex(bytes[0..<24]) != nil else { throw refuse("not 24 upper-case hex digits") }
            let suffix = Array(bytes[24...])
            if suffix.isEmpty {
                kind = .segment
            } else if suffix == Array(".partial".utf8) {
                kind = .partial
            } else if suffix.count == 16, suffix[0] == UInt8(ascii: "."), Self.hex(suffix[1..<9]) != nil, Array(suffix[9...]) == Array(".backup".utf8) {
                kind = .backup
            } else {
                throw refuse("unknown suffix")
            }
            log = Self.hex(bytes[8..<16])!
            segment = Self.hex(bytes[16..<24])!
        }
        timeline = Self.hex(bytes[0..<8])!
        guard timeline != 0 else { throw refuse("timeline 0 does not exist") }
        name = text
    }

    /// The value of exactly 8 upper-case hex digits (PostgreSQL never writes lower case).
    private static func hex(_ digits: ArraySlice<UInt8>) -> UInt32? {
        guard digits.count == 8 || digits.count == 24 else { return nil }
        var value: UInt32 = 0
        for digit in digits {
            let nibble: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = digit - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = digit - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value &<< 4 | UInt32(nibble)  // for 24 digits only validity matters
        }
        return value
    }

    /// The name as it can be printed safely: control characters escaped, length bounded.
    static func shown(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars.prefix(80) {
            result += scalar.isASCII && scalar.value >= 0x20 && scalar.value != 0x7F ? String(scalar) : scalar.escaped(asASCII: true)
        }
        return "\"" + result + (text.unicodeScalars.count > 80 ? "…" : "") + "\""
    }
}
