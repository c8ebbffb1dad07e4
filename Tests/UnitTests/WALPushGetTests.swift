import Foundation
import TestSupport
import Testing
@testable import WALArchive

/// Push and get on plain files, without a server: layout, checksums, idempotency, damage.
@Suite("WAL push and get")
struct WALPushGetTests {
    let root: String
    let repository: WALRepository
    let source: String
    static let name = "000000010000000000000003"
    static let size = 1 << 20

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("wal-\(UUID().uuidString)").path
        source = root + "/pg_wal"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/repository", withIntermediateDirectories: true)
        repository = try WALRepository(root: root + "/repository/")
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: root) }

    func segment(_ name: String = Self.name, random: Bool = true) throws -> String {
        let path = source + "/" + name
        try SyntheticWALSegment.write(to: path, name: name, size: Self.size, random: random)
        return path
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test func theLayoutPutsSegmentsUnderTimelineAndLog() throws {
        defer { cleanUp() }
        #expect(repository.root == root + "/repository")
        #expect(repository.path(for: try WALFileName("0000000200000001000000A3")) == root + "/repository/wal/00000002/0000000200000001/0000000200000001000000A3.zst")
        #expect(repository.path(for: try WALFileName("000000010000000000000002.00000028.backup")) == root + "/repository/wal/00000001/0000000100000000/000000010000000000000002.00000028.backup.zst")
        #expect(repository.path(for: try WALFileName("000000010000000000000003.partial")) == root + "/repository/wal/00000001/0000000100000000/000000010000000000000003.partial.zst")
        #expect(repository.path(for: try WALFileName("00000002.history")) == root + "/repository/wal/00000002/00000002.history.zst")
        #expect(throws: WALArchiveError.self) { try WALRepository(root: "relative/repository") }
    }

    @Test func aPushedSegmentComesBackIdenticalAndVerified() throws {
        defer { cleanUp() }
        let path = try segment()
        let outcome = try WALPush(repository: repository).push(path: path)
        guard case .stored(let trailer, let compressed) = outcome else { Issue.record("expected a new file, got \(outcome)"); return }
        #expect(trailer.bytes == Int64(Self.size))
        #expect(compressed > Int64(Self.size) / 2, "random content does not compress")

        let stored = repository.path(for: try WALFileName(Self.name))
        var info = stat()
        #expect(stat(stored, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o640, "the orchestrator's group reads what postgres writes")
        #expect(stat(repository.directory(for: try WALFileName(Self.name)), &info) == 0 && info.st_mode & 0o777 == 0o750)

        let restored = root + "/RECOVERYXLOG"
        let got = try WALGet(repository: repository).get(name: Self.name, destination: restored)
        #expect(got == trailer)
        #expect(try bytes(restored) == bytes(path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasPrefix(".") }.isEmpty, "no temporary file left")
    }

    @Test func historyAndBackupLabelsArchiveAtAnySize() throws {
        defer { cleanUp() }
        let history = source + "/00000002.history"
        try Data("1\t0/3000000\tno recovery target specified\n".utf8).write(to: URL(fileURLWithPath: history))
        _ = try WALPush(repository: repository).push(path: history)
        try WALGet(repository: repository).get(name: "00000002.history", destination: root + "/RECOVERYHISTORY")
        #expect(try bytes(root + "/RECOVERYHISTORY") == bytes(history))
        let empty = source + "/000000010000000000000002.00000028.backup"
        FileManager.default.createFile(atPath: empty, contents: Data())
        _ = try WALPush(repository: repository).push(path: empty)
        try WALGet(repository: repository).get(name: "000000010000000000000002.00000028.backup", destination: root + "/label")
        #expect(try bytes(root + "/label").isEmpty)
    }

    @Test func pushingTheSameContentAgainSucceedsWithoutRewriting() throws {
        defer { cleanUp() }
        let path = try segment()
        let push = WALPush(repository: repository)
        guard case .stored(let first, _) = try push.push(path: path) else { Issue.record("not stored"); return }
        let stored = repository.path(for: try WALFileName(Self.name))
        var before = stat()
        stat(stored, &before)
        #expect(try push.push(path: path) == .alreadyArchived(first))
        var after = stat()
        stat(stored, &after)
        #expect(before.st_ino == after.st_ino && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec, "the stored file was not rewritten")
    }

    @Test func pushingOtherContentUnderAStoredNameFailsNamingBothChecksums() throws {
        defer { cleanUp() }
        let path = try segment()
        guard case .stored(let first, _) = try WALPush(repository: repository).push(path: path) else { Issue.record("not stored"); return }
        let other = root + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try SyntheticWALSegment.write(to: other + "/" + Self.name, name: Self.name, size: Self.size, random: true)
        do {
            _ = try WALPush(repository: repository).push(path: other + "/" + Self.name)
            Issue.record("different content was accepted")
        } catch {
            #expect(error.code == .conflict)
            #expect(error.message.contains(first.sha256Hex))
            let second = try WALPush.digest(open(other + "/" + Self.name, O_RDONLY), path: "other", size: Int64(Self.size))
            #expect(error.message.contains(second.sha256Hex))
        }
        // The stored copy is untouched.
        try WALGet(repository: repository).get(name: Self.name, destination: root + "/back")
        #expect(try bytes(root + "/back") == bytes(path))
    }

    @Test func aDamagedCopyIsNeverHandedBack() throws {
        defer { cleanUp() }
        let path = try segment()
        _ = try WALPush(repository: repository).push(path: path)
        let stored = repository.path(for: try WALFileName(Self.name))
        let original = try bytes(stored)
        var flipped = original
        flipped[flipped.count / 2] ^= 0xFF
        let truncated = original.prefix(original.count - 100)
        var wrongChecksum = original
        wrongChecksum[wrongChecksum.count - 1] ^= 0x01
        for damaged in [flipped, Data(truncated), wrongChecksum, Data("not zstd at all, but long enough to hold a trailer of 56 bytes....".utf8)] {
            try damaged.write(to: URL(fileURLWithPath: stored))
            let destination = root + "/RECOVERYXLOG"
            do {
                try WALGet(repository: repository).get(name: Self.name, destination: destination)
                Issue.record("a damaged copy was restored")
            } catch {
                #expect(error.code == .corrupt, "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: destination))
            #expect(try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasPrefix(".") }.isEmpty)
            // A push of the segment finds the damage and replaces the copy.
            let outcome = try WALPush(repository: repository).push(path: path)
            guard case .repaired = outcome else { Issue.record("expected a repair, got \(outcome)"); continue }
            try WALGet(repository: repository).get(name: Self.name, destination: destination)
            #expect(try bytes(destination) == bytes(path))
            try FileManager.default.removeItem(atPath: destination)
        }
    }

    @Test func aMissingFileIsNotFoundButAMissingRepositoryIsAnError() throws {
        defer { cleanUp() }
        do {
            try WALGet(repository: repository).get(name: "00000002.history", destination: root + "/RECOVERYHISTORY")
            Issue.record("found a file never pushed")
        } catch {
            #expect(error.code == .notFound)
        }
        let gone = try WALRepository(root: root + "/unmounted")
        do {
            try WALGet(repository: gone).get(name: "00000002.history", destination: root + "/RECOVERYHISTORY")
            Issue.record("an unreachable repository answered")
        } catch {
            #expect(error.code == .io, "only a reachable repository may say a file is not archived")
        }
        #expect(throws: WALArchiveError.self) { try WALPush(repository: gone).push(path: try segment()) }
        #expect(!FileManager.default.fileExists(atPath: root + "/unmounted"), "a missing repository is never created")
    }

    @Test func theFirstSegmentBindsTheRepositoryToItsClusterAndAnotherClustersWALIsRefused() throws {
        defer { cleanUp() }
        #expect(try WALClusterIdentity.bound(in: repository) == nil)
        _ = try WALPush(repository: repository).push(path: try segment())
        #expect(try WALClusterIdentity.bound(in: repository) == SyntheticWALSegment.systemIdentifier)
        let mode = try FileManager.default.attributesOfItem(atPath: repository.walDirectory + "/" + WALClusterIdentity.fileName)[.posixPermissions] as? Int
        #expect(mode == 0o640)

        let foreign = source + "/000000010000000000000004"
        try SyntheticWALSegment.write(to: foreign, name: "000000010000000000000004", size: Self.size, random: true, systemIdentifier: 42)
        let error = #expect(throws: WALArchiveError.self) { try WALPush(repository: self.repository).push(path: foreign) }
        #expect(error?.message.contains("belongs to cluster 42") == true, "\(error?.message ?? "")")
        #expect(!FileManager.default.fileExists(atPath: repository.path(for: try WALFileName("000000010000000000000004"))), "nothing stored")
        // History files carry no identifier and are not affected.
        try "1\t0/3000000\tno recovery target specified\n".write(toFile: source + "/00000002.history", atomically: true, encoding: .utf8)
        _ = try WALPush(repository: repository).push(path: source + "/00000002.history")
    }

    /// The background pusher pushes several files at once in one process: the first ones race to bind.
    @Test func concurrentFirstPushesInOneProcessBindOnce() throws {
        defer { cleanUp() }
        for round in 0..<10 {
            let repository = try WALRepository(root: root + "/race-\(round)")
            try FileManager.default.createDirectory(atPath: repository.root, withIntermediateDirectories: true)
            let names = (4..<8).map { "00000001000000000000000\($0)" }
            let paths = try names.map { try segment($0) }
            let failures = Locked<[String]>([])
            DispatchQueue.concurrentPerform(iterations: paths.count) { index in
                do { _ = try WALPush(repository: repository).push(path: paths[index]) } catch { failures.withLock { $0.append("\(error)") } }
            }
            #expect(failures.withLock { $0 }.isEmpty, "round \(round): \(failures.withLock { $0 })")
            #expect(try WALClusterIdentity.bound(in: repository) == SyntheticWALSegment.systemIdentifier)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: repository.walDirectory).filter { $0.hasPrefix(".") }
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }

    @Test func hostilePathsAreRefused() throws {
        defer { cleanUp() }
        let path = try segment()
        let push = WALPush(repository: repository)
        for bad in ["\(source)/../pg_wal/\(Self.name)", "\(source)/\(Self.name)/..", "\(source)/\(Self.name).zst", "\(source)/"] {
            #expect(throws: WALArchiveError.self, "\(bad)") { try push.push(path: bad) }
        }
        // A link in place of a segment is not followed.
        let link = root + "/links/" + "000000010000000000000004"
        try FileManager.default.createDirectory(atPath: root + "/links", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        #expect(throws: WALArchiveError.self) { try push.push(path: link) }
        _ = try push.push(path: path)
        let get = WALGet(repository: repository)
        for bad in ["\(root)/../RECOVERYXLOG", "", "\(root)/"] {
            #expect(throws: WALArchiveError.self, "\(bad)") { try get.get(name: Self.name, destination: bad) }
        }
        #expect(throws: WALArchiveError.self) { try get.get(name: "../wal/00000001/0000000100000000/\(Self.name)", destination: root + "/x") }
    }

    @Test func aTemporaryFileLeftByADeadPushIsRemovedByTheNextPush() throws {
        defer { cleanUp() }
        let file = try WALFileName(Self.name)
        let directory = repository.directory(for: file)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let dead = directory + "/" + WALTemporaryFiles.name(for: repository.storedName(for: file), pid: Int32.max)
        let alive = directory + "/" + WALTemporaryFiles.name(for: repository.storedName(for: file), pid: 1)
        FileManager.default.createFile(atPath: dead, contents: Data("half".utf8))
        FileManager.default.createFile(atPath: alive, contents: Data("in progress".utf8))
        // Never returned, whatever it holds.
        #expect(throws: WALArchiveError.self) { try WALGet(repository: repository).get(name: Self.name, destination: root + "/x") }
        _ = try WALPush(repository: repository).push(path: try segment())
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: alive), "a push still running is left alone")
    }
}
