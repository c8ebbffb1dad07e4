import Archiving
import Foundation
import Testing

/// One byte stream compressed into a plain zstd stream, on the caller's thread or on zstd's own:
/// either way the stream decompresses to exactly the bytes written, in the order written.
@Suite("zstd streams")
struct ZstdStreamWriterTests {
    /// 6 MiB that zstd's threads cut into several jobs: random runs between repeated text, as in
    /// a WAL segment.
    private func input() -> [UInt8] {
        var random = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(6 << 20)
        let text = Array("INSERT INTO trades VALUES (42, 'BTCUSD', 'B', 50000.1234, 7, now());".utf8)
        while bytes.count < 6 << 20 {
            for _ in 0..<512 { withUnsafeBytes(of: random.next() as UInt64) { bytes += $0 } }
            for _ in 0..<64 { bytes += text }
        }
        return Array(bytes.prefix(6 << 20))
    }

    private func roundTrip(compressionThreads: Int) throws -> (stored: Int, back: [UInt8], sent: [UInt8]) {
        let sent = input()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zstd-stream-\(UUID().uuidString).zst").path
        let output = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        try #require(output >= 0)
        defer { unlink(path) }
        let writer = try ZstdStreamWriter(descriptor: output, name: path, level: 1, compressionThreads: compressionThreads)
        // Uneven pieces, as reads hand them over.
        var offset = 0
        var piece = 1
        try sent.withUnsafeBytes { all in
            while offset < all.count {
                let count = min(piece, all.count - offset)
                try writer.write(UnsafeRawBufferPointer(rebasing: all[offset..<offset + count]))
                offset += count
                piece = piece * 7 % 1_048_573 + 1
            }
        }
        try writer.finish()
        close(output)
        let stored = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let reading = open(path, O_RDONLY)
        try #require(reading >= 0)
        defer { close(reading) }
        var back: [UInt8] = []
        try ZstdStreamReader.decompress(descriptor: reading, name: path) { back += $0 }
        return (stored, back, sent)
    }

    @Test func aStreamCompressedOnTheCallersThreadComesBackWhole() throws {
        let result = try roundTrip(compressionThreads: 0)
        #expect(result.back == result.sent)
        #expect(result.stored < result.sent.count, "compressible input stored smaller")
    }

    @Test func aStreamCompressedOnZstdsOwnThreadComesBackWhole() throws {
        let result = try roundTrip(compressionThreads: 1)
        #expect(result.back == result.sent)
        #expect(result.stored < result.sent.count, "compressible input stored smaller")
    }
}
