import Foundation

/// Cheap checks that a file is the whole segment its name says, before it is archived: a
/// truncated copy, a file of another size or another segment's content is refused.
///
/// The size must be a power of two from 1 MB to 1 GB (what `initdb --wal-segsize` allows),
/// and the first page must carry PostgreSQL's long page header (`XLogLongPageHeaderData`,
/// unchanged since 9.x; native byte order, as the server wrote it) describing this very
/// segment: long-header flag, a page magic of the 0xDxxx family (0xD110 in PostgreSQL 15), the segment size, the page
/// address the name implies, and a timeline no later than the name's. (A new timeline's first
/// segment starts with pages copied from its parent, so an earlier timeline is normal.)
package enum WALSegmentCheck {
    package static let minimumSize: Int64 = 1 << 20
    package static let maximumSize: Int64 = 1 << 30
    /// Bytes of the long page header that are read.
    package static let headerSize = 40

    package static func validSize(_ size: Int64) -> Bool {
        size >= minimumSize && size <= maximumSize && size & (size - 1) == 0
    }

    /// Throws `.refused` naming what does not match. `header` is the file's first bytes.
    package static func check(_ file: WALFileName, size: Int64, header: [UInt8]) throws(WALArchiveError) {
        guard file.isSegmentSized else { return }
        guard validSize(size) else {
            throw WALArchiveError(.refused, "\(file) has \(size) bytes, not a WAL segment size (a power of two from 1 MB to 1 GB): a partial or damaged copy is never archived")
        }
        let segmentsPerLog = UInt64(1) << 32 / UInt64(size)
        guard UInt64(file.segment) < segmentsPerLog else {
            throw WALArchiveError(.refused, "\(file): segment number \(String(file.segment, radix: 16, uppercase: true)) does not exist with \(size)-byte segments")
        }
        guard header.count >= headerSize else {
            throw WALArchiveError(.refused, "\(file): cannot read its first page header")
        }
        let magic = load(UInt16.self, header, 0)
        let info = load(UInt16.self, header, 2)
        let timeline = load(UInt32.self, header, 4)
        let pageAddress = load(UInt64.self, header, 8)
        let segmentSize = load(UInt32.self, header, 32)
        let expectedAddress = UInt64(file.log) << 32 + UInt64(file.segment) * UInt64(size)
        let longHeader: UInt16 = 0x0002  // XLP_LONG_HEADER
        var problems: [String] = []
        if magic & 0xF000 != 0xD000 { problems.append("page magic 0x\(String(magic, radix: 16)) is not PostgreSQL's") }
        if info & longHeader == 0 { problems.append("the first page has no long header") }
        if timeline == 0 || timeline > file.timeline { problems.append("page timeline \(timeline), name timeline \(file.timeline)") }
        if pageAddress != expectedAddress {
            problems.append("page address \(hex(pageAddress)), expected \(hex(expectedAddress))")
        }
        if Int64(segmentSize) != size { problems.append("header says \(segmentSize)-byte segments, the file has \(size) bytes") }
        guard problems.isEmpty else {
            throw WALArchiveError(.refused, "\(file) is not the segment its name says (\(problems.joined(separator: "; "))): it is not archived")
        }
    }

    private static func load<T: FixedWidthInteger>(_ type: T.Type, _ bytes: [UInt8], _ offset: Int) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    private static func hex(_ address: UInt64) -> String {
        String(address >> 32, radix: 16, uppercase: true) + "/" + String(address & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }
}
