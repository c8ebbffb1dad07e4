import Archiving
import Foundation
import Testing

/// Reading an archive while another thread is still writing it: the reader follows the file to
/// the end the writer declares, sees every stored byte once, and stops promptly when the writer
/// gives up.
@Suite("Archives read while they are written")
final class GrowingFileTests {
    let scratch: String

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("growing-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    // Each test runs on an instance of its own: its scratch directory goes with it, whatever the test did.
    deinit {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    /// A finished zstd tar with a few small files and one spanning many read buffers.
    private func makeArchive() throws -> Data {
        let tree = scratch + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/base/1", withIntermediateDirectories: true)
        var random = SystemRandomNumberGenerator()
        try Data((0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &random) }).write(to: URL(fileURLWithPath: tree + "/base/1/16384"))
        try Data("PG_VERSION 15\n".utf8).write(to: URL(fileURLWithPath: tree + "/PG_VERSION"))
        try Data("ñame".utf8).write(to: URL(fileURLWithPath: tree + "/base/1/ü"))
        let archive = scratch + "/complete.tar.zst"
        let writer = try TarWriter(path: archive, compression: .zstd)
        try writer.add(tree: tree, as: "data", filter: PathFilter(excluding: []))
        try writer.finish()
        return try Data(contentsOf: URL(fileURLWithPath: archive))
    }

    /// Appends `bytes` to `path` in small pieces with pauses, then says how it ended.
    private func write(_ bytes: Data, to path: String, upTo end: Int? = nil, then: @escaping @Sendable () -> Void) -> Thread {
        let thread = Thread {
            let handle = FileHandle(forWritingAtPath: path)!
            var offset = 0
            let stop = end ?? bytes.count
            while offset < stop {
                let next = min(offset + 65_536, stop)
                handle.write(bytes.subdata(in: offset..<next))
                offset = next
                usleep(2_000)
            }
            try? handle.close()
            then()
        }
        return thread
    }

    private struct Read: Equatable {
        var entries: [String] = []
        var contents: [String: Data] = [:]
    }

    @Test func theReaderFollowsTheWriterToTheEndAndSeesEveryStoredByte() throws {
        let complete = try makeArchive()
        let path = scratch + "/growing.tar.zst"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let file = GrowingFile(path: path)
        write(complete, to: path) { file.writerFinished() }.start()

        var observed = Data()
        var followed = Read()
        try TarReader.read(
            growing: file, observe: { observed.append(contentsOf: $0) },
            entry: { followed.entries.append(String(decoding: $0.path.bytes, as: UTF8.self)) },
            data: { entry, block in followed.contents[String(decoding: entry.path.bytes, as: UTF8.self), default: Data()].append(contentsOf: block) }
        )
        var direct = Read()
        try TarReader.read(
            path: scratch + "/complete.tar.zst",
            entry: { direct.entries.append(String(decoding: $0.path.bytes, as: UTF8.self)) },
            data: { entry, block in direct.contents[String(decoding: entry.path.bytes, as: UTF8.self), default: Data()].append(contentsOf: block) }
        )
        #expect(followed == direct)
        #expect(followed.contents["data/base/1/16384"]?.count == 3 << 20)
        #expect(followed.entries.contains("data/base/1/ü"))
        // Every stored byte, in order, including what follows the tar's end blocks.
        #expect(observed == complete)
    }

    @Test func aFileCreatedOnlyLaterIsWaitedFor() throws {
        let complete = try makeArchive()
        let path = scratch + "/late.tar.zst"
        let file = GrowingFile(path: path)
        Thread {
            usleep(200_000)
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let handle = FileHandle(forWritingAtPath: path)!
            handle.write(complete)
            try? handle.close()
            file.writerFinished()
        }.start()
        var files = 0
        try TarReader.read(growing: file, entry: { if $0.kind == .file { files += 1 } })
        #expect(files == 3)
    }

    @Test func aWriterThatGivesUpStopsTheReaderWithThatCause() throws {
        let complete = try makeArchive()
        let path = scratch + "/abandoned.tar.zst"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let file = GrowingFile(path: path)
        write(complete, to: path, upTo: complete.count / 2) { file.writerAbandoned() }.start()
        do {
            try TarReader.read(growing: file)
            Issue.record("reading an abandoned file succeeded")
        } catch let error as ArchiveError {
            #expect(error.code == .io)
            #expect(error.message.contains("the writer stopped before finishing"))
        }
    }

    @Test func aFinishedButTruncatedFileIsDamagedAndAMissingOneIsNamed() throws {
        let complete = try makeArchive()
        let path = scratch + "/truncated.tar.zst"
        try complete.prefix(complete.count / 2).write(to: URL(fileURLWithPath: path))
        let truncated = GrowingFile(path: path)
        truncated.writerFinished()
        #expect(throws: ArchiveError.self) { try TarReader.read(growing: truncated) }

        let missing = GrowingFile(path: scratch + "/never-written.tar.zst")
        missing.writerFinished()
        do {
            try TarReader.read(growing: missing)
            Issue.record("reading a file that was never written succeeded")
        } catch let error as ArchiveError {
            #expect(error.message.contains("never-written.tar.zst"))
            #expect(error.message.contains("No such file"))
        }
    }
}
