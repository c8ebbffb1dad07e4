import TestSupport
import Testing
@testable import WALArchive

@Suite("WAL segment check")
struct WALSegmentCheckTests {
    let name = "000000020000000100000003"
    let size = 16 << 20

    func check(size: Int64? = nil, header: [UInt8]? = nil, name: String? = nil) throws(WALArchiveError) {
        let file = try WALFileName(name ?? self.name)
        try WALSegmentCheck.check(file, size: size ?? Int64(self.size), header: header ?? SyntheticWALSegment.header(name: self.name, size: self.size))
    }

    @Test func aWholeSegmentWithItsOwnHeaderPasses() throws {
        try check()
        // A new timeline's first segment starts with its parent's pages.
        try check(header: SyntheticWALSegment.header(name: name, size: size, timeline: 1))
        for power in 20...30 {
            let size = 1 << power
            try WALSegmentCheck.check(try WALFileName("000000010000000000000001"), size: Int64(size), header: SyntheticWALSegment.header(name: "000000010000000000000001", size: size))
        }
    }

    @Test func wrongSizesAreRefusedAsPartialCopies() {
        for size: Int64 in [0, 40, 8 << 20 + 1, 16 << 20 - 8192, 3 << 20, 1 << 19, 2 << 30] {
            #expect(throws: WALArchiveError.self) { try check(size: size) }
        }
    }

    @Test func aHeaderOfAnotherSegmentIsRefused() throws {
        var otherAddress = SyntheticWALSegment.header(name: "000000020000000100000004", size: size)
        #expect(throws: WALArchiveError.self) { try check(header: otherAddress) }
        otherAddress = SyntheticWALSegment.header(name: name, size: size, timeline: 3)
        #expect(throws: WALArchiveError.self) { try check(header: otherAddress) }
        var noLongHeader = SyntheticWALSegment.header(name: name, size: size)
        noLongHeader[2] = 0
        #expect(throws: WALArchiveError.self) { try check(header: noLongHeader) }
        var notWAL = SyntheticWALSegment.header(name: name, size: size)
        notWAL[1] = 0x42
        #expect(throws: WALArchiveError.self) { try check(header: notWAL) }
        #expect(throws: WALArchiveError.self) { try check(header: [UInt8](repeating: 0, count: 40)) }
        #expect(throws: WALArchiveError.self) { try check(header: Array(SyntheticWALSegment.header(name: name, size: size).prefix(20))) }
        // The header says 16 MB segments; the file has 32 MB.
        #expect(throws: WALArchiveError.self) { try check(size: 32 << 20) }
    }

    @Test func segmentNumbersBeyondTheLogAreRefused() {
        // With 16 MB segments a log holds segments 00...FF.
        #expect(throws: WALArchiveError.self) { try check(name: "000000010000000000000100") }
    }

    @Test func historyAndBackupFilesHaveAnySize() throws {
        for name in ["00000002.history", "000000010000000000000002.00000028.backup"] {
            try WALSegmentCheck.check(try WALFileName(name), size: 57, header: Array("1\t0/3000000\tno recovery target specified\n".utf8))
        }
    }
}
