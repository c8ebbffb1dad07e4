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
        let scan = try WALRepositoryScan.scan(try WALRepository(root: root))
        guard let stored = scan.timelines.first(where: { $0.timeline == timeline }),
              let first = stored.firstSegment, let last = stored.lastSegment else { return nil }
        let size = UInt64(segmentSize)
        // The replay position is the end of the last record: exactly on a boundary it still
        // belongs to the segment before.
        let reachedNumber = reached.value == 0 ? 0 : (reached.value - 1) / size
        // Names of one timeline sort as their positions do.
        let next = WALPosition((reachedNumber + 1) * size).segmentName(timeline: timeline, segmentSize: size)
        guard last >= next else { return nil }
        if next < first { return Gap(missing: next, laterStored: last) }
        guard let hole = stored.gaps.first(where: { $0.firstMissing >= next }) else { return nil }
        return Gap(missing: hole.firstMissing, laterStored: last)
    }
}
