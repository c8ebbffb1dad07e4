import Foundation

/// Files shaped like WAL segments without a server: PostgreSQL's long page header for the
/// segment the name says (magic, long-header flag, timeline, page address, segment size), then
/// zeros (sparse) or random bytes.
public enum SyntheticWALSegment {
    /// The 40-byte long page header `name` (24 hex digits) implies for `size`-byte segments.
    public static let systemIdentifier: UInt64 = 7_300_000_000_000_000_001

    public static func header(name: String, size: Int, timeline pageTimeline: UInt32? = nil, systemIdentifier: UInt64 = Self.systemIdentifier) -> [UInt8] {
        let digits = Array(name.utf8.prefix(24))
        func value(_ range: Range<Int>) -> UInt32 { UInt32(String(decoding: digits[range], as: UTF8.self), radix: 16)! }
        let timeline = pageTimeline ?? value(0..<8)
        let address = UInt64(value(8..<16)) << 32 + UInt64(value(16..<24)) * UInt64(size)
        var bytes: [UInt8] = []
        bytes += withUnsafeBytes(of: UInt16(0xD110).littleEndian, Array.init)  // PostgreSQL 15's magic
        bytes += withUnsafeBytes(of: UInt16(0x0002).littleEndian, Array.init)  // XLP_LONG_HEADER
        bytes += withUnsafeBytes(of: timeline.littleEndian, Array.init)
        bytes += withUnsafeBytes(of: address.littleEndian, Array.init)
        bytes += [UInt8](repeating: 0, count: 8)  // xlp_rem_len, padding
        bytes += withUnsafeBytes(of: systemIdentifier.littleEndian, Array.init)
        bytes += withUnsafeBytes(of: UInt32(size).littleEndian, Array.init)
        bytes += withUnsafeBytes(of: UInt32(8192).littleEndian, Array.init)
        return bytes
    }

    /// Writes a segment at `path`: the header, then zeros (a sparse file) or `random` bytes.
    public static func write(
        to path: String, name: String, size: Int, random: Bool = false, timeline: UInt32? = nil, systemIdentifier: UInt64 = Self.systemIdentifier
    ) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw TestEnvironmentError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var first = header(name: name, size: size, timeline: timeline, systemIdentifier: systemIdentifier)
        if random {
            var generator = SystemRandomNumberGenerator()
            var block = [UInt8](repeating: 0, count: 1 << 20)
            var written = 0
            while written < size {
                for index in stride(from: 0, to: block.count, by: 8) {
                    withUnsafeBytes(of: generator.next() as UInt64) { block.replaceSubrange(index..<index + 8, with: $0) }
                }
                if written == 0 { block.replaceSubrange(0..<first.count, with: first) }
                let count = min(block.count, size - written)
                guard block.withUnsafeBytes({ Foundation.write(descriptor, $0.baseAddress, count) }) == count else {
                    throw TestEnvironmentError("cannot write \(path): \(String(cString: strerror(errno)))")
                }
                written += count
            }
        } else {
            guard first.withUnsafeMutableBytes({ Foundation.write(descriptor, $0.baseAddress, $0.count) }) == first.count,
                  ftruncate(descriptor, off_t(size)) == 0 else {
                throw TestEnvironmentError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
        }
    }
}
