import Foundation
import RemoteFiles
import Testing
import TestSupport

/// Rate limits and cancellation: timing is kept loose, the machine may be busy.
@Suite("SFTP transfer limits")
struct SFTPTransferLimitTests {
    @Test func theRateLimitIsHonoured() async throws {
        try await SFTPFixture.with { fixture in
            let file = try fixture.randomFile("limited", count: 2 * 1024 * 1024)
            let start = ContinuousClock.now
            try await fixture.session.upload(file: file.path, to: "limited", maxBytesPerSecond: 1024 * 1024)
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(1500), "2 MiB at 1 MiB/s took \(elapsed)")
            #expect(try await fixture.session.sha256(of: "limited").sha256 == file.sha256)
        }
    }

    @Test func aCancelledUploadNeverLeavesThePathBehind() async throws {
        try await SFTPFixture.with { fixture in
            // Cancel mid-transfer, once bytes are moving.
            let (old, _, upload) = try await Self.slowReplacement(of: "backups/base.tar", count: 16 * 1024 * 1024, moving: 512 * 1024, fixture)
            let cancelledAt = ContinuousClock.now
            upload.cancel()
            let result = await upload.result
            #expect(ContinuousClock.now - cancelledAt < .seconds(5))
            #expect(throws: RemoteFileError.self) { try result.get() }
            if case .failure(let error as RemoteFileError) = result {
                #expect(error.kind == .cancelled)
                #expect(error.isTransient == false)
            }
            // The old copy is untouched; at most the ".part" remains beside it.
            #expect(try await fixture.session.sha256(of: "backups/base.tar").sha256 == old.sha256)
            let names = try await fixture.session.list("backups")
            #expect(Set(names).isSubset(of: ["base.tar", "base.tar.part"]))
            let part = try await fixture.session.size(of: "backups/base.tar.part") ?? 0
            #expect(part < 16 * 1024 * 1024)

            // The session goes on, and the next upload overwrites the leftover.
            try await fixture.session.upload(file: old.path, to: "backups/other")
            #expect(try await fixture.session.size(of: "backups/other") == 1000)
        }
    }

    @Test func aFirstUploadThatIsCancelledLeavesNoPath() async throws {
        try await SFTPFixture.with { fixture in
            let file = try fixture.randomFile("large", count: 8 * 1024 * 1024)
            let upload = Task { try await fixture.session.upload(file: file.path, to: "new.tar", maxBytesPerSecond: 512 * 1024) }
            try await Task.sleep(for: .milliseconds(1500))
            upload.cancel()
            _ = await upload.result
            #expect(try await fixture.session.size(of: "new.tar") == nil)
            #expect(FileManager.default.fileExists(atPath: fixture.onServer("new.tar")) == false)
        }
    }

    @Test func sshKilledMidUploadFailsThatUploadAloneAndTheSessionReconnects() async throws {
        try await SFTPFixture.with { fixture in
            let (old, file, upload) = try await Self.slowReplacement(of: "base.tar", count: 8 * 1024 * 1024, moving: 256 * 1024, fixture)
            // The session's ssh is a child of this process (the tests run one at a time).
            let children = Self.children(named: "ssh")
            #expect(!children.isEmpty, "no ssh child was found to kill")
            for child in children { kill(child, SIGKILL) }
            let result = await upload.result
            #expect(throws: RemoteFileError.self) { try result.get() }
            if case .failure(let error as RemoteFileError) = result {
                #expect(error.kind == .interrupted, "\(error)")
                #expect(error.isTransient)
            }
            // The old copy is whole, and the next call connects again.
            #expect(try await fixture.session.sha256(of: "base.tar").sha256 == old.sha256)
            try await fixture.session.upload(file: file.path, to: "base.tar")
            #expect(try await fixture.session.sha256(of: "base.tar").sha256 == file.sha256)
        }
    }

    @Test func aConnectionThatDiedBetweenCallsIsReplacedWithoutFailingTheNextCall() async throws {
        try await SFTPFixture.with { fixture in
            let file = try fixture.randomFile("f", count: 4321)
            try await fixture.session.upload(file: file.path, to: "kept")
            let children = Self.children(named: "ssh")
            #expect(children.count == 1)
            for child in children { kill(child, SIGKILL) }
            // Let the end of the connection reach this side.
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await fixture.session.sha256(of: "kept").sha256 == file.sha256)
            #expect(Self.children(named: "ssh").count == 1)
        }
    }

    @Test func aTaskCancelledBeforeTheCallSendsNothing() async throws {
        try await SFTPFixture.with { fixture in
            let file = try fixture.randomFile("f", count: 10)
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await fixture.session.upload(file: file.path, to: "never")
            }
            let result = await task.result
            #expect(throws: RemoteFileError.self) { try result.get() }
            #expect(try await fixture.session.size(of: "never") == nil)
        }
    }

    /// Puts a small file at `path`, then starts replacing it with `count` random bytes at
    /// 1 MiB/s, and returns once the server has acknowledged `moving` bytes (or 20 s passed).
    static func slowReplacement(
        of path: String, count: Int, moving: Int64, _ fixture: SFTPFixture
    ) async throws -> (old: (path: String, sha256: String), new: (path: String, sha256: String), upload: Task<Int64, any Error>) {
        let old = try fixture.randomFile("old", count: 1000)
        try await fixture.session.upload(file: old.path, to: path)
        let file = try fixture.randomFile("large", count: count)
        let sent = Locked<Int64>(0)
        let upload = Task {
            try await fixture.session.upload(file: file.path, to: path, maxBytesPerSecond: 1024 * 1024) { bytes in sent.withLock { $0 = bytes } }
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while sent.withLock({ $0 }) < moving && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        return (old, file, upload)
    }

    /// This process's children with the command name `name`, from /proc.
    static func children(named name: String) -> [pid_t] {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
            let command = stat[stat.index(after: open)..<close]
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard command == name, fields.count > 2, pid_t(fields[1]) == me else { return nil }
            return pid
        }
    }
}
