import Archiving
import Foundation
import Testing

/// Links are judged by where they resolve once everything is extracted, following the other
/// links of the archive, in whatever order they come.
@Suite("Symbolic link chains")
final class SymlinkChainTests {
    let scratch: String

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("chains-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch + "/src/dir", withIntermediateDirectories: true)
        try Data("payload".utf8).write(to: URL(fileURLWithPath: scratch + "/src/file"))
    }

    // Each test runs on an instance of its own: its scratch directory goes with it, whatever the test did.
    deinit {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    enum Item {
        case directory
        case file
        case link(String)
    }

    /// Writes an archive with these entries, in this order, from real files and links.
    private func archive(_ entries: [(String, Item)]) throws -> String {
        let path = scratch + "/test-\(UUID().uuidString).tar"
        let writer = try TarWriter(path: path, compression: .none)
        for (index, (name, item)) in entries.enumerated() {
            switch item {
            case .directory: try writer.add(fileAt: scratch + "/src/dir", as: name)
            case .file: try writer.add(fileAt: scratch + "/src/file", as: name)
            case .link(let target):
                let link = scratch + "/src/link\(index)"
                try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
                try writer.add(fileAt: link, as: name)
            }
        }
        try writer.finish()
        return path
    }

    private func expectRefused(_ entries: [(String, Item)], because reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = try archive(entries)
        let target = scratch + "/out"
        #expect(sourceLocation: sourceLocation) {
            _ = try SafeExtractor.extract(archive: path, into: target)
        } throws: { error in
            let error = error as? ArchiveError
            return error?.code == .unsafeEntry && error?.message.contains(reason) == true
        }
        // Refused before anything was written.
        #expect((try? FileManager.default.contentsOfDirectory(atPath: target))?.isEmpty ?? true, sourceLocation: sourceLocation)
    }

    @Test func aChainThroughAnEarlierLinkIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try expectRefused([("d", .directory), ("d/l2", .link("..")), ("d/l1", .link("l2/.."))], because: "climbs above the target")
    }

    @Test func aChainThroughALaterLinkIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try expectRefused([("d", .directory), ("d/l1", .link("l2/..")), ("d/l2", .link(".."))], because: "climbs above the target")
    }

    @Test func aLongerChainIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try expectRefused([
            ("a/b", .directory), ("a/b/x", .link("../y")), ("a/y", .link("b/z")), ("a/b/z", .link("..")), ("a/escape", .link("b/x/../..")),
        ], because: "climbs above the target")
    }

    @Test func aLoopIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try expectRefused([("a", .link("b")), ("b", .link("a")), ("c", .link("a/.."))], because: "too many levels")
    }

    @Test func climbingOutOfSomethingTheArchiveDoesNotCreateIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // "elsewhere" could already be a link on disk; the archive cannot vouch for it.
        try expectRefused([("d", .directory), ("d/l", .link("elsewhere/../.."))], because: "does not create as a directory")
    }

    @Test func writingThroughALinkOfTheArchiveIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try expectRefused([("d", .directory), ("d/l", .link(".")), ("d/l/f", .file)], because: "written through the symbolic link")
    }

    @Test func aLinkReplacingADirectoryOfTheArchiveIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // The reverse order: "d/l" is first a directory (parent of "d/l/f"), then a link.
        try expectRefused([("d/l/f", .file), ("d/l", .link(".."))], because: "appears twice")
    }

    @Test func linksThatStayInsideAreExtracted() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let path = try archive([
            ("d/sub", .directory), ("d/sub/f", .file), ("d/l1", .link("l2/../sub/f")), ("d/l2", .link("sub")), ("d/l3", .link("l2/../l1")),
        ])
        let target = scratch + "/out"
        let summary = try SafeExtractor.extract(archive: path, into: target)
        #expect(summary.entries == 5)
        #expect(try String(contentsOfFile: target + "/d/l3", encoding: .utf8) == "payload")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target + "/d/l1") == "l2/../sub/f")
    }

    @Test func hardLinksFromAnotherTarAreExtractedInside() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let tree = scratch + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/sub", withIntermediateDirectories: true)
        try Data("shared".utf8).write(to: URL(fileURLWithPath: tree + "/sub/a"))
        try FileManager.default.linkItem(atPath: tree + "/sub/a", toPath: tree + "/b-ü")
        let path = scratch + "/hard.tar"
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        tar.arguments = ["--format=pax", "-C", tree, "-cf", path, "sub", "b-ü"]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        var kinds: [ArchiveEntry.Kind] = []
        try TarReader.read(path: path, entry: { kinds.append($0.kind) })
        #expect(kinds.contains(.hardlink(target: "sub/a")))

        let target = scratch + "/out"
        _ = try SafeExtractor.extract(archive: path, into: target)
        #expect(try String(contentsOfFile: target + "/b-ü", encoding: .utf8) == "shared")
        let first = try FileManager.default.attributesOfItem(atPath: target + "/sub/a")[.systemFileNumber] as? Int
        let second = try FileManager.default.attributesOfItem(atPath: target + "/b-ü")[.systemFileNumber] as? Int
        #expect(first != nil && first == second)
    }

    @Test func aLinkAlreadyInTheTargetDirectoryIsNeverWrittenThrough() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let outside = scratch + "/outside"
        let target = scratch + "/out"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: target + "/app", withDestinationPath: outside)
        let path = try archive([("app/f", .file)])
        #expect {
            _ = try SafeExtractor.extract(archive: path, into: target)
        } throws: { error in
            (error as? ArchiveError)?.code == .unsafeEntry
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }
}
