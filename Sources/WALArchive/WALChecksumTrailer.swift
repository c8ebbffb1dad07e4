/// The SHA-256 and size of a stored file's uncompressed content, kept inside the compressed
/// file as a zstd skippable frame after the data frame: one file, written and renamed at once,
/// so the checksum can never be missing or belong to other content, and `zstd -d` still reads
/// the file (decoders pass over skippable frames).
///
/// Layout (56 bytes, little-endian): magic 0x184D2A5E, frame size 48, "ORCHWAL1", uncompressed
/// size (UInt64), SHA-256 (32 bytes).
package struct WALChecksumTrailer: Sendable, Equatable {
    package static let size = 56
    static let magic: UInt32 = 0x184D_2A5E
    static let tag = Array("ORCHWAL1".utf8)

    package let bytes: Int64
    package let sha256: [UInt8]

    package init(bytes: Int64, sha256: [UInt8]) {
        self.bytes = bytes
        self.sha256 = sha256
    }

    package var sha256Hex: String { Self.hex(sha256) }

    package var encoded: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(Self.size)
        result += withUnsafeBytes(of: Self.magic.littleEndian, Array.init)
        result += withUnsafeBytes(of: UInt32(48).littleEndian, Array.init)
        result += Self.tag
        result += withUnsafeBytes(of: UInt64(bytes).littleEndian, Array.init)
        result += sha256
        return result
    }

    /// The trailer from a stored file's last 56 bytes; nil when they are not one.
    package init?(decoding data: [UInt8]) {
        guard data.count == Self.size else { return nil }
        let magic = data.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) }
        let length = data.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) }
        guard magic == Self.magic, length == 48, Array(data[8..<16]) == Self.tag else { return nil }
        let size = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 16, as: UInt64.self)) }
        guard size <= UInt64(Int64.max) else { return nil }
        bytes = Int64(size)
        sha256 = Array(data[24..<56])
    }

    package static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
