import Foundation
import Testing
@testable import WALArchive

/// The repository scan on synthetic repositories: names are all it needs, plus one stored
/// trailer for the segment size.
@Suite("WAL repository scan")
struct WALRepositoryScanTests {
    /// A repository under a fresh temporary directory, removed afterwards.
    static func withRepository(_ body: (String) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("wal-scan-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try body(root)
    }

    /// Stores `name` as an empty file, or with a trailer recording `segmentSize` bytes.
    static func store(_ name: String, in root: String, segmentSize: Int64? = nil) throws {
        let file = try WALFileName(name)
        let repository = try WALRepository(root: root)
        try FileManager.default.createDirectory(atPath: repository.directory(for: file), withIntermediateDirectories: true)
        let content = segmentSize.map { WALChecksumTrailer(bytes: $0, sha256: Array(repeating: 0, count: 32)).encoded } ?? []
        guard FileManager.default.createFile(atPath: repository.path(for: file), contents: Data([0x28, 0xB5, 0x2F, 0xFD] + content)) else {
            throw CocoaError(.fileWriteUnknown)
        }
    }

    static func name(_ timeline: UInt32, _ position: UInt64, perLog: UInt64) -> String {
        WALRepositoryScan.segmentName(timeline, position / perLog, position % perLog)
    }

    @Test func anEmptyOrNewRepositoryHasNoTimelineAndAMissingOneIsAnErrorWithTheFix() throws {
        try Self.withRepository { root in
            let empty = try WALRepositoryScan.scan(try WALRepository(root: root))
            #expect(empty.timelines.isEmpty && empty.gaps.isEmpty && empty.segmentSize == nil)
            do throws(WALArchiveError) {
                _ = try WALRepositoryScan.scan(try WALRepository(root: root + "/unmounted"))
                Issue.record("a missing repository was scanned")
            } catch {
                #expect(error.code == .io && error.message.contains("cannot be reached") && error.message.contains("mount it"))
            }
        }
    }

    @Test func gapsAreNamedAcrossLogBoundariesWithTheStoredSegmentSize() throws {
        try Self.withRepository { root in
            // 64 MB segments: 64 per log, so ...00000000003F is followed by ...000000010000000.
            let size: Int64 = 64 << 20
            let perLog: UInt64 = 64
            for position in UInt64(60)...UInt64(70) where position != 63 && position != 64 && position != 68 {
                try Self.store(Self.name(1, position, perLog: perLog), in: root, segmentSize: position == 60 ? size : nil)
            }
            // Neither a partial, a backup label, a history file, a push under way nor a stranger closes or opens a gap.
            try Self.store(Self.name(1, 71, perLog: perLog) + ".partial", in: root)
            try Self.store(Self.name(1, 68, perLog: perLog) + ".00000028.backup", in: root)
            try Self.store("00000001.history", in: root)
            FileManager.default.createFile(atPath: root + "/wal/00000001/0000000100000001/.000000010000000100000009.zst.123.tmp", contents: Data())
            FileManager.default.createFile(atPath: root + "/wal/README", contents: Data())
            // A directory and a link under the missing segment's name are not that segment.
            let hole = root + "/wal/00000001/0000000100000001/000000010000000100000004.zst"
            try FileManager.default.createDirectory(atPath: hole, withIntermediateDirectories: false)
            try FileManager.default.createSymbolicLink(atPath: root + "/wal/00000001/0000000100000000/00000001000000000000003F.zst",
                                                       withDestinationPath: root + "/wal/00000001/0000000100000000/00000001000000000000003E.zst")

            let scan = try WALRepositoryScan.scan(try WALRepository(root: root))
            #expect(scan.segmentSize == size)
            let timeline = try #require(scan.timelines.first)
            #expect(timeline.firstSegment == "00000001000000000000003C" && timeline.lastSegment == "000000010000000100000006")
            #expect(timeline.segments == 8 && timeline.history && timeline.partials == ["000000010000000100000007.partial"] && timeline.backupLabels == 1)
            #expect(timeline.gaps == [
                .init(after: "00000001000000000000003E", firstMissing: "00000001000000000000003F", lastMissing: "000000010000000100000000", missing: 2),
                .init(after: "000000010000000100000003", firstMissing: "000000010000000100000004", lastMissing: "000000010000000100000004", missing: 1),
            ])
            #expect(scan.strays == 3)
        }
    }

    @Test func timelinesAreScannedApartSoASwitchIsNoGap() throws {
        try Self.withRepository { root in
            let perLog: UInt64 = 256
            for position in UInt64(1)...5 { try Self.store(Self.name(1, position, perLog: perLog), in: root, segmentSize: 16 << 20) }
            try Self.store(Self.name(1, 6, perLog: perLog) + ".partial", in: root)
            for position in UInt64(6)...9 { try Self.store(Self.name(2, position, perLog: perLog), in: root) }
            try Self.store("00000002.history", in: root)
            let scan = try WALRepositoryScan.scan(try WALRepository(root: root))
            #expect(scan.timelines.map(\.name) == ["00000001", "00000002"] && scan.gaps.isEmpty)
            #expect(scan.timelines.map(\.segments) == [5, 4] && scan.segments == 9)
        }
    }

    @Test func aHugeArchiveIsScannedFromItsListingsQuickly() throws {
        try Self.withRepository { root in
            // 20,000 segments of 16 MB over 79 logs (~312 GB of WAL), two holes.
            let perLog: UInt64 = 256
            let holes: Set<UInt64> = [5_000, 12_345]
            try Self.store(Self.name(1, 1, perLog: perLog), in: root, segmentSize: 16 << 20)
            for position in UInt64(2)...20_001 where !holes.contains(position) {
                let name = Self.name(1, position, perLog: perLog)
                let directory = root + "/wal/00000001/" + name.prefix(16)
                if position % perLog == 0 { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
                let descriptor = open(directory + "/" + name + ".zst", O_CREAT | O_WRONLY | O_CLOEXEC, 0o640)
                #expect(descriptor >= 0)
                close(descriptor)
            }
            let started = ContinuousClock.now
            let scan = try WALRepositoryScan.scan(try WALRepository(root: root))
            let elapsed = ContinuousClock.now - started
            #expect(scan.segments == 19_999)
            #expect(scan.gaps.map(\.gap.firstMissing) == [Self.name(1, 5_000, perLog: perLog), Self.name(1, 12_345, perLog: perLog)])
            // Generous: a debug build on a loaded 2-core host takes 1.5 to 2.5 s; reading the files would mean gigabytes.
            #expect(elapsed < .seconds(10), "scan of 20,000 names took \(elapsed)")
            print("scan of 19,999 segments: \(elapsed)")
        }
    }
}
