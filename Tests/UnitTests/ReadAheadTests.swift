@testable import Backups
import Foundation
import Synchronization
import Testing

@Suite("Read-ahead")
struct ReadAheadTests {
    struct Broken: Error, Equatable {}

    /// A producer handing out `total` bytes of a known sequence in pieces of at most `piece`,
    /// then failing with `Broken` if `fails`.
    final class Source: @unchecked Sendable {
        let total: Int
        let piece: Int
        let fails: Bool
        var offset = 0

        init(total: Int, piece: Int, fails: Bool = false) {
            self.total = total
            self.piece = piece
            self.fails = fails
        }

        static func byte(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: index &* 31 &+ index >> 8) }

        func produce(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            let count = min(buffer.count, piece, total - offset)
            if count == 0 && fails { throw Broken() }
            for index in 0..<count { buffer[index] = Self.byte(offset + index) }
            offset += count
            return count
        }
    }

    static func drain(_ ahead: ReadAhead, readSize: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: readSize)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try ahead.read(into: $0) }
            if count == 0 { return out }
            out += chunk[0..<count]
        }
    }

    @Test func everyByteComesOutInOrderWhateverTheSizes() throws {
        for (total, piece, slotSize, readSize) in [(0, 7, 16, 5), (1, 1, 16, 3), (1000, 7, 16, 5), (1000, 100, 64, 1000), (65_536 * 3 + 1, 4_096, 65_536, 77_777)] {
            let source = Source(total: total, piece: piece)
            let ahead = ReadAhead(name: "test-ahead", slots: 3, slotSize: slotSize) { try source.produce($0) }
            let out = try Self.drain(ahead, readSize: readSize)
            ahead.close()
            #expect(out.count == total && out.enumerated().allSatisfy { $0.element == Source.byte($0.offset) }, "total \(total), piece \(piece)")
        }
    }

    @Test func theProducersErrorComesOutAfterEverythingBeforeIt() throws {
        let source = Source(total: 1000, piece: 64, fails: true)
        let ahead = ReadAhead(name: "test-ahead", slots: 2, slotSize: 100) { try source.produce($0) }
        var read = 0
        var chunk = [UInt8](repeating: 0, count: 30)
        #expect(throws: Broken()) {
            while true {
                let count = try chunk.withUnsafeMutableBytes { try ahead.read(into: $0) }
                read += count
                if count == 0 { break }
            }
        }
        ahead.close()
        #expect(read == 1000, "every byte before the failure was read first")
    }

    @Test func closingStopsAProducerThatIsAheadAndWaiting() {
        let calls = Atomic<Int>(0)
        // An endless producer: it fills every buffer and waits for one to come back.
        let ahead = ReadAhead(name: "test-ahead", slots: 2, slotSize: 16) { buffer in
            calls.add(1, ordering: .relaxed)
            return buffer.count
        }
        while calls.load(ordering: .relaxed) < 2 { usleep(1_000) }
        ahead.close()
        let after = calls.load(ordering: .relaxed)
        #expect(after >= 2 && after <= 3, "the producer stopped at its next buffer: \(after) calls")
    }
}
