@testable import Health
import Testing

/// Whether the archiver is behind, from the last archived file and the WAL position.
@Suite("Archiver backlog")
struct ArchiverBacklogTests {
    static let size: UInt64 = 16 << 20

    @Test func anIdleServerThatArchivedEverythingIsNotBehindHoweverOldItsLastArchive() {
        // Writing into segment 8; segment 7 is the last finished one and is archived, a day ago.
        let idle = ArchiverBacklog(lastArchived: "000000010000000000000007", lastArchivedSeconds: 86_400,
                                   currentPosition: 8 * Self.size + 4096, segmentSize: Self.size, oldestReadySeconds: nil)
        #expect(idle.pendingSegments == 0 && idle.behindSeconds == 0)
        // Just switched: the position is at the very start of segment 8, 7 is finished and archived.
        let switched = ArchiverBacklog(lastArchived: "000000010000000000000007", lastArchivedSeconds: 5,
                                       currentPosition: 8 * Self.size, segmentSize: Self.size, oldestReadySeconds: 0)
        #expect(switched.pendingSegments == 0 && switched.behindSeconds == 0)
    }

    @Test func finishedSegmentsNotArchivedAreABacklogAgedByTheirReadyFilesOrTheLastArchive() {
        let ready = ArchiverBacklog(lastArchived: "0000000100000000000000FE", lastArchivedSeconds: 900,
                                    currentPosition: (UInt64(1) << 32) + 2 * Self.size, segmentSize: Self.size, oldestReadySeconds: 120)
        #expect(ready.pendingSegments == 3 && ready.behindSeconds == 120 && ready.source == "ready_files")  // FF, 1/00 and 1/01 wait
        let fallback = ArchiverBacklog(lastArchived: "000000010000000000000003.partial", lastArchivedSeconds: 900,
                                       currentPosition: 6 * Self.size, segmentSize: Self.size, oldestReadySeconds: nil)
        #expect(fallback.pendingSegments == 2 && fallback.behindSeconds == 900 && fallback.source == "last_archived")
        // A promoted server's timeline 2 continues the numbering: a backup label names its segment.
        let label = ArchiverBacklog(lastArchived: "000000020000000000000009.00000028.backup", lastArchivedSeconds: 1,
                                    currentPosition: 10 * Self.size + 100, segmentSize: Self.size, oldestReadySeconds: nil)
        #expect(label.pendingSegments == 0)
    }

    @Test func aServerThatNeverArchivedCountsFromItsFirstFailure() {
        // Nothing archived; segment 4 failed: 4 and 5 wait while 6 is written.
        let failing = ArchiverBacklog(lastArchived: nil, lastArchivedSeconds: nil, failedFirst: "000000010000000000000004",
                                      currentPosition: 6 * Self.size + 10, segmentSize: Self.size, oldestReadySeconds: 30)
        #expect(failing.pendingSegments == 2 && failing.behindSeconds == 30)
        let unprivileged = ArchiverBacklog(lastArchived: nil, lastArchivedSeconds: nil, failedFirst: "000000010000000000000004",
                                           currentPosition: 6 * Self.size + 10, segmentSize: Self.size, oldestReadySeconds: nil)
        #expect(unprivileged.pendingSegments == 2 && unprivileged.behindSeconds == nil, "how long is unknown, not 0")
    }

    @Test func whatNamesNoSegmentIsUnknownNotHealthy() {
        for archived in [nil, "00000002.history"] {
            let unknown = ArchiverBacklog(lastArchived: archived, lastArchivedSeconds: nil, currentPosition: 5 * Self.size,
                                          segmentSize: Self.size, oldestReadySeconds: nil)
            #expect(unknown.pendingSegments == nil && unknown.behindSeconds == nil)
        }
    }
}
