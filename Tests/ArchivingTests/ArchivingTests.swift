import Archiving
import Foundation
import Testing

@Suite("Tar archives")
final class ArchivingTests {
    let scratch: URL

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("archiving-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    // Each test runs on an instance of its own: its scratch directory goes with it, whatever the test did.
    deinit {
        try? FileManager.default.removeItem(at: scratch)
    }

    private func makeTree() throws -> URL {
        let root = scratch.appendingPathComponent("app")
        let fm = FileManager.default
        for directory in ["config", "node_modules/pkg", "logs", "src/deep"] {
            try fm.createDirectory(at: root.appendingPathComponent(directory), withIntermediateDirectories: true)
        }
        try "TOKEN=from-env\n".write(to: root.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        try "a: 1\n".write(to: root.appendingPathComponent("config/app.yaml"), atomically: true, encoding: .utf8)
        try "junk".write(to: root.appendingPathComponent("node_modules/pkg/index.js"), atomically: true, encoding: .utf8)
        try "log line".write(to: root.appendingPathComponent("logs/app.log"), atomically: true, encoding: .utf8)
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        try Data(bytes).write(to: root.appendingPathComponent("src/deep/blob.bin"))
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("src/current").path, withDestinationPath: "deep/blob.bin")
        return root
    }

    @Test(arguments: ArchiveCompression.allCases)
    func roundTripKeepsContentAndHonoursExcludes(compression: ArchiveCompression) throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let root = try makeTree()
        let archive = scratch.appendingPathComponent("files" + compression.fileExtension).path
        let writer = try TarWriter(path: archive, compression: compression)
        try writer.add(tree: root.path, as: "app", filter: PathFilter(excluding: ["node_modules", "*.log"]))
        try writer.finish()

        let attributes = try FileManager.default.attributesOfItem(atPath: archive)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        var names: [String] = []
        try TarReader.read(path: archive, entry: { names.append($0.path.string ?? "") })
        #expect(names.contains("app/.env"))
        #expect(names.contains("app/src/deep/blob.bin"))
        #expect(names.contains("app/logs"))
        #expect(!names.contains { $0.contains("node_modules") || $0.hasSuffix(".log") })

        let target = scratch.appendingPathComponent("restored").path
        let summary = try SafeExtractor.extract(archive: archive, into: target)
        #expect(summary.entries == names.count)
        let original = try Data(contentsOf: root.appendingPathComponent("src/deep/blob.bin"))
        let restored = try Data(contentsOf: URL(fileURLWithPath: target).appendingPathComponent("app/src/deep/blob.bin"))
        #expect(original == restored)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target + "/app/src/current") == "deep/blob.bin")
    }

    @Test func aTruncatedArchiveIsReportedAsDamaged() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let root = try makeTree()
        let archive = scratch.appendingPathComponent("files.tar.zst").path
        let writer = try TarWriter(path: archive, compression: .zstd)
        try writer.add(tree: root.path, as: "app", filter: PathFilter(excluding: []))
        try writer.finish()
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: archive))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size / 2)
        try handle.close()
        #expect(throws: ArchiveError.self) { try TarReader.read(path: archive) }
    }

    @Test(arguments: [
        ("../escape.txt", "contains '..'"),
        ("/tmp/absolute.txt", "has an absolute path"),
        ("app/../../escape.txt", "contains '..'"),
    ])
    func hostileNamesAreRefusedBeforeAnythingIsWritten(name: String, reason: String) throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let payload = scratch.appendingPathComponent("payload.txt")
        try "owned".write(to: payload, atomically: true, encoding: .utf8)
        let archive = scratch.appendingPathComponent("hostile.tar").path
        let writer = try TarWriter(path: archive, compression: .none)
        try writer.add(fileAt: payload.path, as: "harmless.txt")
        try writer.add(fileAt: payload.path, as: name)
        try writer.finish()
        let target = scratch.appendingPathComponent("out").path
        #expect {
            _ = try SafeExtractor.extract(archive: archive, into: target)
        } throws: { error in
            (error as? ArchiveError)?.code == .unsafeEntry && (error as? ArchiveError)?.message.contains(reason) == true
        }
        // Validation happens first: not even the harmless entry was written.
        #expect(!FileManager.default.fileExists(atPath: target + "/harmless.txt"))
        #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("escape.txt").path))
    }

    @Test(arguments: ["../../etc", "/etc", "a/../../.."])
    func linksLeavingTheTargetAreRefused(destination: String) throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let link = scratch.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: destination)
        let archive = scratch.appendingPathComponent("links.tar").path
        let writer = try TarWriter(path: archive, compression: .none)
        try writer.add(fileAt: link.path, as: "app/link")
        try writer.finish()
        #expect {
            _ = try SafeExtractor.extract(archive: archive, into: scratch.appendingPathComponent("out").path)
        } throws: { error in
            (error as? ArchiveError)?.code == .unsafeEntry
        }
    }

    @Test func excludePatternsMatchComponentsAndAnchoredPaths() {
        let filter = PathFilter(excluding: ["node_modules", "*.log", "backups/*", "data/cache"])
        #expect(filter.excludes("node_modules"))
        #expect(filter.excludes("web/node_modules/pkg/index.js"))
        #expect(filter.excludes("logs/today.log"))
        #expect(filter.excludes("backups/2026.tar"))
        #expect(filter.excludes("data/cache/x/y"))
        #expect(!filter.excludes("data/cached"))
        #expect(!filter.excludes("src/app.swift"))
        #expect(!filter.excludes("logs"))
    }
}
