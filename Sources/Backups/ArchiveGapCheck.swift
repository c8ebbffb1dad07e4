import Foundation
import WALArchive

/// After a recovery to the end of the archive: PostgreSQL stops at the first segment
/// `restore_command` cannot find and takes that for the end. If the archive holds later WAL of
/// the same timeline, it stopped at a hole instead, and the copy silently lacks what came after.
enum ArchiveGapCheck {
    struct Gap: Sendable, Equatable {
        let missing: String
        let laterStored: String
    }

    /// The first segment after `reached` that is missing while a later one of `timeline` is stored.
    static func gap(after reached: WALPosition, timeline: UInt32, segmentSize: Int64, repository root: String) throws -> Gap? {
        let repository = try WALRepository(root: root)
        let size = UInt64(segmentSize)
        // The replay position is the end of the last record: exactly on a boundary it still
        // belongs to the segment before.
        let reachedNumber = reached.value == 0 ? 0 : (reached.value - 1) / size
        let timelineDirectory = repository.walDirectory + "/" + WALPosition.hex8(timeline)
        var stored = Set<UInt64>()
        let perLog = 0x1_0000_0000 / size
        for log in (try? FileManager.default.contentsOfDirectory(atPath: timelineDirectory)) ?? [] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: timelineDirectory + "/" + log)) ?? [] where name.hasSuffix(".zst") {
                guard let file = try? WALFileName(String(name.dropLast(4))), file.kind == .segment else { continue }
                stored.insert(UInt64(file.log) * perLog + UInt64(file.segment))
            }
        }
        guard let newest = stored.max(), newest > reachedNumber else { return nil }
        var number = reachedNumber + 1
        while stored.contains(number) { number += 1 }
        guard number < newest else { return nil }
        let name = { (n: UInt64) in WALPosition(n * size).segmentName(timeline: timeline, segmentSize: size) }
        return Gap(missing: name(number), laterStored: name(newest))
    }
}
