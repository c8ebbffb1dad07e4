import Archiving
import Foundation
import Testing
import TestSupport

/// Names are bytes: UTF-8, invalid UTF-8, newlines and paths near 4,000 bytes go into an
/// archive and come back out identically, in the C locale this test process runs in.
@Suite("Byte-exact names")
final class ByteExactNameTests {
    let scratch: String

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("names-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    // Each test runs on an instance of its own: its scratch directory goes with it, whatever the test did.
    deinit {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    static let invalid = ArchivePath(bytes: Array("bad".utf8) + [0xff, 0xfe] + Array(".txt".utf8))
    static let deepDirectories: [ArchivePath] = (0..<20).map { level in
        ArchivePath(String(format: "d%02d-", level) + String(repeating: "é", count: 98))  // 200 bytes each
    }

    /// The tree every test here uses, relative to its root, parents first.
    static func hostileTree() -> [(ArchivePath, RawTree.Node)] {
        var nodes: [(ArchivePath, RawTree.Node)] = [
            ("données-ü.txt", .file(Array("accents\n".utf8))),
            (invalid, .file([0, 1, 2, 0xff])),
            ("line\nbreak.txt", .file(Array("newline in the name".utf8))),
            ("tab\tand\u{1}control", .file([])),
            ("lien-ü", .symlink("données-ü.txt")),
            (ArchivePath(bytes: [0xff] + Array("link".utf8)), .symlink(invalid)),
            ("nl\nlink", .symlink("line\nbreak.txt")),
        ]
        var deep = ArchivePath(bytes: [])
        for directory in deepDirectories {
            deep = deep.appending(directory)
            nodes.append((deep, .directory))
        }
        let deepFile = deep.appending(ArchivePath(bytes: Array("fin-".utf8) + [0xc3, 0xa9, 0xfe] + Array(".txt".utf8)))
        nodes.append((deepFile, .file(Array(repeating: 7, count: 70_000))))
        let upwards = String(repeating: "../", count: deepDirectories.count) + "données-ü.txt"
        nodes.append((deep.appending("up-ü"), .symlink(ArchivePath(upwards))))
        nodes.append(("long-link", .symlink(deepFile)))
        return nodes
    }

    @Test(arguments: ArchiveCompression.allCases)
    func everyNameAndTargetRoundTripsByteForByte(compression: ArchiveCompression) throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let root = scratch + "/app"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try RawTree.create(Self.hostileTree(), under: root)
        let source = try RawTree.snapshot(of: root)
        #expect(source.keys.contains { $0.bytes.count > 4_000 })

        let archive = scratch + "/files" + compression.fileExtension
        let writer = try TarWriter(path: archive, compression: compression)
        try writer.add(tree: root, as: "app", filter: PathFilter(excluding: []))
        try writer.finish()

        var listed: Set<ArchivePath> = []
        var links: [ArchivePath: ArchivePath] = [:]
        try TarReader.read(path: archive, entry: { entry in
            listed.insert(entry.path)
            if case .symlink(let target) = entry.kind { links[entry.path] = target }
        })
        #expect(listed == Set(source.keys.map { ArchivePath("app").appending($0) } + ["app"]))
        for (path, node) in source {
            if case .symlink(let target) = node { #expect(links[ArchivePath("app").appending(path)] == target) }
        }

        let restored = scratch + "/restored"
        let summary = try SafeExtractor.extract(archive: archive, into: restored)
        #expect(summary.entries == source.count + 1)
        let extracted = try RawTree.snapshot(of: restored + "/app")
        #expect(extracted.count == source.count)
        for (path, node) in source {
            #expect(extracted[path] == node, "\(path)")
        }
    }

    @Test func excludePatternsMatchNamesThatAreNotUTF8() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let root = scratch + "/app"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try RawTree.create(Self.hostileTree(), under: root)
        let archive = scratch + "/files.tar"
        let writer = try TarWriter(path: archive, compression: .none)
        try writer.add(tree: root, as: "app", filter: PathFilter(excluding: ["*.txt", "d00-*"]))
        try writer.finish()
        var listed: [ArchivePath] = []
        try TarReader.read(path: archive, entry: { listed.append($0.path) })
        #expect(!listed.contains(ArchivePath("app").appending(Self.invalid)))
        #expect(!listed.contains { $0.bytes.count > 300 })
        #expect(listed.contains(ArchivePath("app/lien-ü")))
    }

    @Test func messagesShowNamesEscapedAndNeverFail() {
        #expect(Self.invalid.description == #""bad\xff\xfe.txt""#)
        #expect(ArchivePath("line\nbreak \"q\"\u{1}").description == #""line\nbreak \"q\"\x01""#)
        #expect(ArchivePath("données-ü.txt").description == "\"données-ü.txt\"")
        #expect(ArchivePath("a\u{85}b\u{202E}c\u{2028}").description == #""a\u{85}b\u{202e}c\u{2028}""#)
        // A truncated sequence and a lone continuation byte are bytes, not text.
        #expect(ArchivePath(bytes: [0x61, 0xc3]).description == #""a\xc3""#)
        #expect(ArchivePath(bytes: [0x80, 0x61]).description == #""\x80a""#)
    }
}
