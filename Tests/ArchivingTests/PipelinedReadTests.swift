@testable import Archiving
import Foundation
import Testing

/// Reading an archive on two threads (decompression and parsing on one, the caller's work on
/// the other): the same entries and bytes as on one thread, in order; an error from either side
/// stops both and is the one reported; nothing is left waiting.
@Suite("Archives read on two threads", .timeLimit(.minutes(1)))
struct PipelinedReadTests {
    let scratch: String

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pipelined-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    /// A zstd tar of a data directory's shape: small files around one member of `big` random
    /// bytes, which crosses many buffers of any pipeline.
    private func makeArchive(big: Int = 3 << 20) throws -> String {
        let tree = scratch + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/base/1", withIntermediateDirectories: true)
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom")).readData(ofLength: big)
        try Data("15\n".utf8).write(to: URL(fileURLWithPath: tree + "/PG_VERSION"))
        try random.write(to: URL(fileURLWithPath: tree + "/base/1/16384"))
        try Data(repeating: 7, count: 8192).write(to: URL(fileURLWithPath: tree + "/base/1/16385"))
        try Data().write(to: URL(fileURLWithPath: tree + "/base/1/16386"))
        let archive = scratch + "/base.tar.zst"
        let writer = try TarWriter(path: archive, compression: .zstd)
        // Named as pg_basebackup names them: relative, no prefix.
        for name in ["PG_VERSION", "base", "base/1", "base/1/16385", "base/1/16384", "base/1/16386"] {
            try writer.add(fileAt: tree + "/" + name, as: name)
        }
        try writer.finish()
        return archive
    }

    private func name(_ entry: ArchiveEntry) -> String { String(decoding: entry.path.bytes, as: UTF8.self) }

    private struct Read: Equatable {
        var entries: [String] = []
        var contents: [String: Data] = [:]
    }

    private func oneThread(_ path: String) throws -> Read {
        var read = Read()
        try TarReader.read(path: path, entry: { read.entries.append(name($0)) }, data: { read.contents[name($0), default: Data()].append(contentsOf: $1) })
        return read
    }

    private func truncate(_ path: String) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size * 2 / 3)
        try handle.close()
    }

    @Test func aMemberCrossingManyBuffersComesOutAsOnOneThread() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let archive = try makeArchive()
        let expected = try oneThread(archive)
        #expect(expected.contents["base/1/16384"]?.count == 3 << 20)

        var pipelined = Read()
        try TarReader.readPipelined(path: archive, entry: { pipelined.entries.append(name($0)) }, data: { pipelined.contents[name($0), default: Data()].append(contentsOf: $1) })
        #expect(pipelined == expected)

        // Two buffers of 4 KiB: the ring goes round hundreds of times within one member, and
        // a piece never spans two entries.
        var small = Read()
        var pieces = 0
        var current = ""
        try TarReader.pipelined(path: archive, refuseSparse: true, pipeline: BlockPipeline(slots: 2, slotSize: 4096), header: { header in
            current = name(header.entry)
            small.entries.append(current)
        }, data: { block in
            #expect(block.count <= 4096)
            pieces += 1
            small.contents[current, default: Data()].append(contentsOf: block)
        })
        #expect(small == expected)
        #expect(pieces >= (3 << 20) / 4096)
    }

    @Test func anErrorOfTheConsumerMidStreamStopsTheReaderAndIsTheOneReported() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let archive = try makeArchive()
        struct Mismatch: Error, Equatable {}
        var bytesSeen = 0
        // The reader is two small buffers ahead and waits for one to come back when the
        // consumer fails: the read returns only once it has been woken and has ended.
        #expect(throws: Mismatch()) {
            try TarReader.pipelined(path: archive, refuseSparse: false, pipeline: BlockPipeline(slots: 2, slotSize: 4096), header: { _ in }, data: { block in
                bytesSeen += block.count
                if bytesSeen > 64 << 10 { throw Mismatch() }
            })
        }
        #expect(bytesSeen < 128 << 10, "nothing is handed over after the consumer's error")

        // The same through extraction: the error of the check fed with the bytes is reported,
        // and the writes stop with it.
        let target = scratch + "/restored"
        var checked = 0
        #expect(throws: Mismatch()) {
            _ = try SafeExtractor.extractTree(archive: archive, into: target, data: { entry, block in
                checked += block.count
                if name(entry) == "base/1/16384", checked > 1 << 20 { throw Mismatch() }
            })
        }
        let written = (try? FileManager.default.attributesOfItem(atPath: target + "/base/1/16384")[.size] as? Int) ?? 0
        #expect(written < 2 << 20, "the member being written stops where the check failed")
    }

    @Test func aTruncatedArchiveFailsWithTheReadersErrorAfterEverythingReadBeforeIt() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let archive = try makeArchive(big: 6 << 20)
        try truncate(archive)
        var before = Read()
        let single = #expect(throws: ArchiveError.self) {
            try TarReader.read(path: archive, entry: { before.entries.append(name($0)) }, data: { before.contents[name($0), default: Data()].append(contentsOf: $1) })
        }
        var pipelined = Read()
        let error = #expect(throws: ArchiveError.self) {
            try TarReader.readPipelined(path: archive, entry: { pipelined.entries.append(name($0)) }, data: { pipelined.contents[name($0), default: Data()].append(contentsOf: $1) })
        }
        #expect(error?.code == .corrupt)
        #expect(error?.message == single?.message, "the same message as on one thread")
        #expect(pipelined == before, "every byte read before the damage was handed over first")

        let target = scratch + "/restored"
        let extraction = #expect(throws: ArchiveError.self) { _ = try SafeExtractor.extractTree(archive: archive, into: target) }
        #expect(extraction?.message == single?.message)
    }

    @Test func extractionStillRefusesLinksAndSparseFilesWhereTheyAre() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let payload = scratch + "/payload"
        try Data("owned".utf8).write(to: URL(fileURLWithPath: payload))
        try FileManager.default.createSymbolicLink(atPath: scratch + "/link", withDestinationPath: "/etc")
        let linked = scratch + "/linked.tar"
        let writer = try TarWriter(path: linked, compression: .none)
        try writer.add(fileAt: payload, as: "PG_VERSION")
        try writer.add(fileAt: scratch + "/link", as: "pg_tblspc/1")
        try writer.finish()
        let refused = #expect(throws: ArchiveError.self) { _ = try SafeExtractor.extractTree(archive: linked, into: scratch + "/out-link") }
        #expect(refused?.message == #"refused: entry "pg_tblspc/1" is not a regular file or directory"#)
        #expect(FileManager.default.fileExists(atPath: scratch + "/out-link/PG_VERSION"), "entries before it were written, in order")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: scratch + "/out-link/pg_tblspc/1")) == nil)

        // A file with a hole in the middle, stored sparse by GNU tar: refused at the hole,
        // which only the reading thread sees.
        let sparse = scratch + "/sparse"
        try Data(repeating: 1, count: 4096).write(to: URL(fileURLWithPath: sparse))
        let handle = try #require(FileHandle(forWritingAtPath: sparse))
        try handle.seek(toOffset: 1 << 20)
        try handle.write(contentsOf: Data(repeating: 2, count: 4096))
        try handle.close()
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        tar.arguments = ["-C", scratch, "--sparse", "--format=pax", "-cf", scratch + "/sparse.tar", "sparse"]
        try tar.run()
        tar.waitUntilExit()
        try #require(tar.terminationStatus == 0)
        let hole = #expect(throws: ArchiveError.self) { _ = try SafeExtractor.extractTree(archive: scratch + "/sparse.tar", into: scratch + "/out-sparse") }
        #expect(hole?.message == #"refused: entry "sparse" is sparse"#)
        #expect(hole?.code == .unsafeEntry)
    }
}
