/// A WAL location (an LSN), written by PostgreSQL as two hex numbers `X/Y`.
package struct WALPosition: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    package let value: UInt64

    package init(_ value: UInt64) { self.value = value }

    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...8).contains(parts[0].count), (1...8).contains(parts[1].count),
              let high = UInt32(parts[0], radix: 16), let low = UInt32(parts[1], radix: 16) else { return nil }
        value = UInt64(high) << 32 | UInt64(low)
    }

    package var description: String {
        String(UInt32(value >> 32), radix: 16, uppercase: true) + "/" + String(UInt32(value & 0xFFFF_FFFF), radix: 16, uppercase: true)
    }

    /// The name of the WAL segment holding this position on `timeline`.
    package func segmentName(timeline: UInt32, segmentSize: UInt64) -> String {
        let number = value / segmentSize
        let perLog = 0x1_0000_0000 / segmentSize
        return Self.hex8(timeline) + Self.hex8(UInt32(number / perLog)) + Self.hex8(UInt32(number % perLog))
    }

    package static func < (lhs: WALPosition, rhs: WALPosition) -> Bool { lhs.value < rhs.value }

    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let position = WALPosition(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a WAL position: \(text)"))
        }
        self = position
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    static func hex8(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
