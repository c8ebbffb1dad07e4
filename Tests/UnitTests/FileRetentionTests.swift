import Archiving
import Foundation
@testable import Kinds
@testable import Runtime
@testable import Settings
import TestSupport
import Testing

@Suite("File retention")
struct FileRetentionTests {
    @Test func oldMatchingFilesGoAndNothingOutsideIsReached() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("file-retention-\(UUID().uuidString)").path
        let logs = root + "/logs"
        let outside = root + "/outside"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for directory in [logs + "/2026/11", outside] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let tenDaysAgo = Date().addingTimeInterval(-10 * 86_400)
        func file(_ path: String, old: Bool, bytes: Int = 100) throws {
            try Data(repeating: 65, count: bytes).write(to: URL(fileURLWithPath: path))
            if old { try FileManager.default.setAttributes([.modificationDate: tenDaysAgo], ofItemAtPath: path) }
        }
        try file(logs + "/app.log", old: true, bytes: 1000)
        try file(logs + "/2026/11/worker.log", old: true, bytes: 500)
        try file(logs + "/today.log", old: false)
        try file(logs + "/notes.txt", old: true)
        try file(outside + "/precious.log", old: true)
        // Links to the outside, as a file and as a directory: neither followed nor deleted.
        try FileManager.default.createSymbolicLink(atPath: logs + "/linked.log", withDestinationPath: outside + "/precious.log")
        try FileManager.default.createSymbolicLink(atPath: logs + "/elsewhere", withDestinationPath: outside)

        let policy = FileRetentionPolicy(directory: logs, patterns: ["*.log"], olderThanDays: 7)
        let dry = try FileSweeper.sweep(policy, dryRun: true, now: Date())
        #expect(dry.files == 2)
        #expect(FileManager.default.fileExists(atPath: logs + "/app.log"))

        let sweep = try FileSweeper.sweep(policy, dryRun: false, now: Date())
        #expect(sweep.files == 2)
        #expect(sweep.bytes == 1500)
        #expect(!FileManager.default.fileExists(atPath: logs + "/app.log"))
        #expect(!FileManager.default.fileExists(atPath: logs + "/2026/11/worker.log"))
        #expect(FileManager.default.fileExists(atPath: logs + "/today.log"))
        #expect(FileManager.default.fileExists(atPath: logs + "/notes.txt"))
        #expect(FileManager.default.fileExists(atPath: outside + "/precious.log"))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: logs + "/linked.log")) != nil)
    }

    @Test func namesThatAreNotUTF8AreSweptToo() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("file-retention-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let invalid = ArchivePath(bytes: Array("old-".utf8) + [0xff, 0xfe] + Array(".log".utf8))
        try RawTree.create([(invalid, .file(Array(repeating: 1, count: 10))), ("données-ü.log", .file([2]))], under: root)
        var old = [timespec(tv_sec: Int(Date().timeIntervalSince1970) - 10 * 86_400, tv_nsec: 0)]
        old.append(old[0])
        for name in [invalid, ArchivePath("données-ü.log")] {
            #expect(ArchivePath(root).appending(name).withCString { utimensat(AT_FDCWD, $0, old, 0) } == 0)
        }
        let sweep = try FileSweeper.sweep(FileRetentionPolicy(directory: root, patterns: ["*.log"], olderThanDays: 7), dryRun: false, now: Date())
        #expect(sweep.files == 2)
        #expect(sweep.errors.isEmpty)
        #expect(try RawTree.snapshot(of: root).isEmpty)
    }

    @Test func aDirectoryThatIsALinkIsRefused() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("file-retention-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/real", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: root + "/real")
        #expect(throws: PermanentJobError.self) {
            _ = try FileSweeper.sweep(FileRetentionPolicy(directory: root + "/link", patterns: ["*"], olderThanDays: 1), dryRun: false, now: Date())
        }
    }

    @Test func badPoliciesAreConfigurationErrors() throws {
        let configuration = try Configuration.parse(yaml: """
            file_retention:
              root: {directory: /, patterns: ["*.log"], older_than_days: 7}
              sneaky: {directory: /var/log/../../etc, patterns: ["*"], older_than_days: 7}
              young: {directory: /var/log/app, patterns: ["*.log"], older_than_days: 0}
            """)
        let problems = configuration.validate(registry: .standard).map(\.description)
        #expect(problems.contains { $0.hasPrefix("file_retention.root.directory:") })
        #expect(problems.contains { $0.hasPrefix("file_retention.sneaky.directory:") })
        #expect(problems.contains { $0.hasPrefix("file_retention.young.older_than_days:") })
    }
}
