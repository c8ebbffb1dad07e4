import Crypto
import Foundation
import RemoteFiles
import Testing
import TestSupport

/// Files and directories through a real OpenSSH server on loopback.
@Suite("SFTP session")
struct SFTPSessionTests {
    @Test func aFileMakesTheRoundTripByteForByte() async throws {
        try await SFTPFixture.with { fixture in
            let count = 3 * 1024 * 1024 + 12_345
            let (path, sha256) = try fixture.randomFile("base.tar", count: count)
            let reported = Locked<[Int64]>([])
            let sent = try await fixture.session.upload(file: path, to: "db1/2026-11-30/base.tar") { bytes in reported.withLock { $0.append(bytes) } }
            #expect(sent == Int64(count))
            #expect(reported.withLock { $0.last } == Int64(count))
            #expect(reported.withLock { $0 == $0.sorted() })

            #expect(try await fixture.session.size(of: "db1/2026-11-30/base.tar") == Int64(count))
            #expect(try await fixture.session.list("db1/2026-11-30") == ["base.tar"])
            let remote = try await fixture.session.sha256(of: "db1/2026-11-30/base.tar")
            #expect(remote.bytes == Int64(count))
            #expect(remote.sha256 == sha256)

            let copy = fixture.local + "/copy.tar"
            let downloaded = try await fixture.session.download("db1/2026-11-30/base.tar", to: copy)
            #expect(downloaded.bytes == Int64(count) && downloaded.sha256 == sha256)
            #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(contentsOf: URL(fileURLWithPath: path)))
            let mode = try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int
            #expect(mode == 0o600)

            let chunks = Locked<[Int]>([])
            let read = try await fixture.session.read("db1/2026-11-30/base.tar") { chunk in chunks.withLock { $0.append(chunk.count) } }
            #expect(read == Int64(count))
            #expect(chunks.withLock { $0.count } > 1)
            #expect(chunks.withLock { $0.reduce(0, +) } == count)
            #expect(chunks.withLock { $0.max() ?? 0 } <= 1024 * 1024)
        }
    }

    @Test func aProducedUploadArrivesWholeAndOneThatEndsShortIsNeverCommitted() async throws {
        try await SFTPFixture.with { fixture in
            let bytes = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let offset = Locked(0)
            let produce: @Sendable (UnsafeMutableRawBufferPointer, Int) -> Int = { buffer, total in
                offset.withLock { offset in
                    let count = min(buffer.count, 10_000, total - offset)
                    buffer.copyBytes(from: bytes[offset..<offset + count])
                    offset += count
                    return count
                }
            }
            let sent = try await fixture.session.upload(size: Int64(bytes.count), to: "made/here") { produce($0, bytes.count) }
            #expect(sent == Int64(bytes.count))
            #expect(try await fixture.session.sha256(of: "made/here").sha256 == SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())

            // Announced more than it gives: refused, and the earlier file stays as it was.
            offset.withLock { $0 = 0 }
            await #expect {
                try await fixture.session.upload(size: Int64(bytes.count) + 1, to: "made/here") { produce($0, bytes.count) }
            } throws: { error in
                "\(error)".contains("ended at byte \(bytes.count) of the \(bytes.count + 1) announced")
            }
            #expect(try await fixture.session.size(of: "made/here") == Int64(bytes.count))
            // A producer that throws stops the upload with its error.
            struct Refused: Error, CustomStringConvertible { var description: String { "the source went away" } }
            await #expect {
                try await fixture.session.upload(size: 10, to: "made/other") { _ in throw Refused() }
            } throws: { error in
                "\(error)".contains("the source went away")
            }
            #expect(try await fixture.session.size(of: "made/other") == nil)
        }
    }

    @Test func uploadedFilesAndNewDirectoriesAreForTheServersUserOnly() async throws {
        try await SFTPFixture.with { fixture in
            let file = try fixture.randomFile("secret", count: 100)
            try await fixture.session.upload(file: file.path, to: "new/sub/base.tar")
            func mode(_ path: String) throws -> Int {
                (try FileManager.default.attributesOfItem(atPath: fixture.onServer(path))[.posixPermissions] as? Int) ?? -1
            }
            #expect(try mode("new") == 0o700)
            #expect(try mode("new/sub") == 0o700)
            #expect(try mode("new/sub/base.tar") == 0o600)
            // A leftover ".part" that others could read does not pass its mode on.
            try FileManager.default.createDirectory(atPath: fixture.onServer("old"), withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: fixture.onServer("old/base.tar.part"), contents: Data("stale".utf8), attributes: [.posixPermissions: 0o644])
            try await fixture.session.upload(file: file.path, to: "old/base.tar")
            #expect(try mode("old/base.tar") == 0o600)
            #expect(try await fixture.session.sha256(of: "old/base.tar").sha256 == file.sha256)
        }
    }

    @Test func emptyFilesHaveSizeZero() async throws {
        try await SFTPFixture.with { fixture in
            let (path, sha256) = try fixture.randomFile("empty", count: 0)
            #expect(try await fixture.session.upload(file: path, to: "empty") == 0)
            #expect(try await fixture.session.size(of: "empty") == 0)
            let remote = try await fixture.session.sha256(of: "empty")
            #expect(remote.bytes == 0 && remote.sha256 == sha256)
        }
    }

    @Test func anUploadReplacesTheFileAndLeavesNoPartFile() async throws {
        try await SFTPFixture.with { fixture in
            let first = try fixture.randomFile("first", count: 100_000)
            let second = try fixture.randomFile("second", count: 50_000)
            try await fixture.session.upload(file: first.path, to: "copy")
            try await fixture.session.upload(file: second.path, to: "copy")
            #expect(try await fixture.session.sha256(of: "copy").sha256 == second.sha256)
            #expect(try await fixture.session.list("") == ["copy"])
        }
    }

    @Test func directoriesAreCreatedWithTheirParentsAndListed() async throws {
        try await SFTPFixture.with { fixture in
            try await fixture.session.makeDirectory("a/b/c")
            try await fixture.session.makeDirectory("a/b/c")  // exists: fine
            try await fixture.session.makeDirectory("a/b2")
            #expect(try await fixture.session.list("a").sorted() == ["b", "b2"])
            #expect(try await fixture.session.list("a/b") == ["c"])
            #expect(try await fixture.session.list("a/b/c") == [])
            #expect(try await fixture.session.list("") == ["a"])
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: fixture.onServer("a/b/c"), isDirectory: &isDirectory)
            #expect(exists && isDirectory.boolValue)
        }
    }

    @Test func aMissingBaseDirectoryIsCreatedToo() async throws {
        try await SFTPFixture.with { fixture in
            let endpoint = try SFTPEndpoint(
                url: fixture.server.url(path: fixture.server.root + "/new/base"), privateKeyFile: fixture.server.privateKeyFile,
                hostKeySHA256: fixture.server.hostKeySHA256
            )
            let session = try SFTPSession(endpoint: endpoint)
            defer { session.close() }
            try await session.makeDirectory("x")
            #expect(FileManager.default.fileExists(atPath: fixture.onServer("new/base/x")))
            #expect(try await session.list("") == ["x"])
        }
    }

    @Test func aRenameReplacesAnExistingFile() async throws {
        try await SFTPFixture.with { fixture in
            let old = try fixture.randomFile("old", count: 1000)
            let new = try fixture.randomFile("new", count: 2000)
            try await fixture.session.upload(file: old.path, to: "dir/target")
            try await fixture.session.upload(file: new.path, to: "dir/source")
            try await fixture.session.rename("dir/source", to: "dir/target")
            #expect(try await fixture.session.size(of: "dir/source") == nil)
            #expect(try await fixture.session.sha256(of: "dir/target").sha256 == new.sha256)
            // A rename of a missing file is notFound and costs the target nothing.
            let error = await #expect(throws: RemoteFileError.self) { try await fixture.session.rename("dir/missing", to: "dir/target") }
            #expect(error?.kind == .notFound)
            #expect(try await fixture.session.size(of: "dir/target") == 2000)
            // Directories move too.
            try await fixture.session.rename("dir", to: "moved")
            #expect(try await fixture.session.list("moved") == ["target"])
        }
    }

    @Test func filesAndTreesAreRemoved() async throws {
        try await SFTPFixture.with { fixture in
            let file = try fixture.randomFile("f", count: 10)
            try await fixture.session.upload(file: file.path, to: "single")
            try await fixture.session.remove("single")
            #expect(try await fixture.session.size(of: "single") == nil)
            let missing = await #expect(throws: RemoteFileError.self) { try await fixture.session.remove("single") }
            #expect(missing?.kind == .notFound)

            for path in ["tree/a", "tree/b c", "tree/sub/x", "tree/sub/deeper/y", "keep/z"] {
                try await fixture.session.upload(file: file.path, to: path)
            }
            try await fixture.session.makeDirectory("tree/empty")
            try FileManager.default.createSymbolicLink(atPath: fixture.onServer("tree/link"), withDestinationPath: fixture.onServer("keep"))
            try await fixture.session.removeTree("tree")
            #expect(try await fixture.session.list("") == ["keep"])
            #expect(try await fixture.session.list("keep") == ["z"])  // the link was removed, not followed
            try await fixture.session.removeTree("tree")  // missing: fine
        }
    }

    @Test func missingFilesAreNotFound() async throws {
        try await SFTPFixture.with { fixture in
            let size = try await fixture.session.size(of: "nothing/here")
            #expect(size == nil)
            let read = await #expect(throws: RemoteFileError.self) { try await fixture.session.read("nothing") { _ in } }
            let hash = await #expect(throws: RemoteFileError.self) { try await fixture.session.sha256(of: "nothing") }
            let list = await #expect(throws: RemoteFileError.self) { try await fixture.session.list("nothing") }
            for error in [read, hash, list] {
                #expect(error?.kind == .notFound)
                #expect(error?.isTransient == false)
                #expect(error?.message.contains("nothing") == true)
            }
            let target = fixture.local + "/never"
            let error = await #expect(throws: RemoteFileError.self) { try await fixture.session.download("nothing", to: target) }
            #expect(error?.kind == .notFound)
            #expect(!FileManager.default.fileExists(atPath: target))
        }
    }

    @Test func aDownloadNeverOverwritesALocalFile() async throws {
        try await SFTPFixture.with { fixture in
            let file = try fixture.randomFile("here", count: 10)
            try await fixture.session.upload(file: file.path, to: "remote")
            let error = await #expect(throws: RemoteFileError.self) { try await fixture.session.download("remote", to: file.path) }
            #expect(error?.kind == .localFile)
            #expect(try Data(contentsOf: URL(fileURLWithPath: file.path)).count == 10)
            let missing = await #expect(throws: RemoteFileError.self) {
                try await fixture.session.upload(file: fixture.local + "/absent", to: "x")
            }
            #expect(missing?.kind == .localFile)
        }
    }

    @Test func aThrowingConsumerStopsTheRead() async throws {
        struct Enough: Error {}
        try await SFTPFixture.with { fixture in
            let file = try fixture.randomFile("big", count: 4 * 1024 * 1024)
            try await fixture.session.upload(file: file.path, to: "big")
            let seen = Locked(0)
            let error = await #expect(throws: RemoteFileError.self) {
                try await fixture.session.read("big") { chunk in
                    if seen.withLock({ $0 += chunk.count; return $0 }) > 100_000 { throw Enough() }
                }
            }
            #expect(error?.kind == .other)
            #expect(seen.withLock { $0 } < 4 * 1024 * 1024)
            // The session goes on.
            #expect(try await fixture.session.size(of: "big") == 4 * 1024 * 1024)
        }
    }

    @Test func hostileNamesSurviveEveryOperation() async throws {
        try await SFTPFixture.with { fixture in
            let file = try fixture.randomFile("payload", count: 4321)
            let names = ["with space", "hash#tag", "per%20cent", "100%", "ümlaut-日本", "-leading-dash", #"quote"and'apos"#, #"back\slash"#, "semi;colon&amp", "*star?"]
            for name in names {
                try await fixture.session.makeDirectory("dir \(name)")
                try await fixture.session.upload(file: file.path, to: "dir \(name)/\(name)")
                #expect(try await fixture.session.size(of: "dir \(name)/\(name)") == 4321, "\(name)")
                #expect(try await fixture.session.sha256(of: "dir \(name)/\(name)").sha256 == file.sha256, "\(name)")
                #expect(try await fixture.session.list("dir \(name)") == [name])
                #expect(FileManager.default.fileExists(atPath: fixture.onServer("dir \(name)/\(name)")), "\(name)")
            }
            #expect(try await fixture.session.list("").sorted() == names.map { "dir \($0)" }.sorted())
            try await fixture.session.rename("dir with space/with space", to: "dir with space/renamed #1")
            #expect(try await fixture.session.list("dir with space") == ["renamed #1"])
            try await fixture.session.remove("dir -leading-dash/-leading-dash")
            #expect(try await fixture.session.list("dir -leading-dash") == [])
            for name in names { try await fixture.session.removeTree("dir \(name)") }
            #expect(try await fixture.session.list("") == [])
        }
    }

    @Test func pathsOutsideTheBaseAreRefusedBeforeAnythingIsSent() async throws {
        try await SFTPFixture.with { fixture in
            let file = try fixture.randomFile("f", count: 1)
            for path in ["..", "../escape", "a/../../b", "/etc/passwd", "", "a//b", "./a", "a/"] {
                let error = await #expect(throws: RemoteFileError.self) { try await fixture.session.upload(file: file.path, to: path) }
                #expect(error?.kind == .invalidPath, "\(path)")
                let size = await #expect(throws: RemoteFileError.self) { try await fixture.session.size(of: path) }
                #expect(size?.kind == .invalidPath, "\(path)")
            }
            let tree = await #expect(throws: RemoteFileError.self) { try await fixture.session.removeTree("") }
            #expect(tree?.kind == .invalidPath)
            #expect(FileManager.default.fileExists(atPath: fixture.server.root))
        }
    }

    @Test func aClosedSessionRefusesCalls() async throws {
        try await SFTPFixture.with { fixture in
            let names = try await fixture.session.list("")
            #expect(names == [])
            fixture.session.close()
            fixture.session.close()
            let error = await #expect(throws: RemoteFileError.self) { try await fixture.session.list("") }
            #expect(error?.kind == .cancelled)
            #expect(error?.message.contains("closed") == true)
        }
    }
}
