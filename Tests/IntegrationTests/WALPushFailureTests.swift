import Foundation
import TestSupport
import Testing

/// What PostgreSQL must never be told is archived, and the answer it gets for missing files.
@Suite("WAL push failures")
struct WALPushFailureTests {
    @Test func aMissingFileIsAQuickQuietExit1() async throws {
        try await WALFixture.with { fixture in
            let run = try await fixture.get("00000002.history", to: fixture.directory + "/RECOVERYHISTORY")
            #expect(run.status == 1)
            #expect(run.seconds < 2, "restore_command is called for files that do not exist; took \(run.seconds) s")
            #expect(run.stderr.split(separator: "\n").count == 1, "one short line: \(run.stderr)")
            let unreachable = try await fixture.run(["wal-get", "--repository", fixture.directory + "/unmounted", "00000002.history", fixture.directory + "/x"])
            #expect(unreachable.status == 128, "an unreachable repository must stop recovery, not end it: \(unreachable.stderr)")
        }
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func aFullDiskFailsWithoutAcknowledgingAndLeavesNothingToRestore() async throws {
        try await WALFixture.with { fixture in
            guard mount("tmpfs", fixture.repository, "tmpfs", 0, "size=4m,mode=0750") == 0 else {
                // A container without CAP_SYS_ADMIN: say so rather than pass.
                Issue.record("cannot mount a tmpfs as root: \(String(cString: strerror(errno)))")
                return
            }
            defer { umount(fixture.repository) }
            try PrivateCluster.handToServerUser(fixture.repository)
            let source = fixture.directory + "/pg_wal"
            try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
            chmod(source, 0o755)
            let name = "000000010000000000000007"
            try SyntheticWALSegment.write(to: source + "/" + name, name: name, size: 16 << 20, random: true)
            let push = try await fixture.push(source + "/" + name)
            #expect(push.status == 1)
            #expect(push.stderr.contains("No space left on device"), "\(push.stderr)")
            let directory = "\(fixture.repository)/wal/00000001/0000000100000000"
            #expect(fixture.files(in: directory).isEmpty, "no stored or temporary file: \(fixture.files(in: directory))")
            let get = try await fixture.get(name, to: fixture.directory + "/RECOVERYXLOG")
            #expect(get.status == 1)
            // With room again, the retry succeeds.
            let small = "000000010000000000000008"
            try SyntheticWALSegment.write(to: source + "/" + small, name: small, size: 1 << 20, random: false)
            #expect(try await fixture.push(source + "/" + small).status == 0)
        }
    }

    @Test func aPushKilledMidWriteLeavesNoHalfSegmentVisible() async throws {
        try await WALFixture.with { fixture in
            let source = fixture.directory + "/pg_wal"
            try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
            chmod(source, 0o755)
            // The largest segment size (sparse): long enough a write to kill in the middle.
            let name = "000000010000000000000000"
            try SyntheticWALSegment.write(to: source + "/" + name, name: name, size: 1 << 30)
            chmod(source + "/" + name, 0o644)
            let directory = "\(fixture.repository)/wal/00000001/0000000100000000"

            let process = Process()
            process.executableURL = URL(fileURLWithPath: fixture.binary)
            process.arguments = ["wal-push", "--repository", fixture.repository, source + "/" + name]
            try process.run()
            let deadline = ContinuousClock.now + .seconds(60)
            while process.isRunning, !fixture.files(in: directory).contains(where: { $0.hasSuffix(".tmp") }), ContinuousClock.now < deadline {
                usleep(500)
            }
            let killedMidWrite = process.isRunning
            kill(process.processIdentifier, SIGKILL)
            try await exited(process)
            #expect(killedMidWrite, "the push finished before it could be killed")

            let restored = fixture.directory + "/restore"
            try fixture.makeServerDirectory(restored)
            if FileManager.default.fileExists(atPath: fixture.stored(name)) {
                // Killed after the link: what is visible is whole.
                #expect(try await fixture.run(["wal-get", "--repository", fixture.repository, name, restored + "/RECOVERYXLOG"], asServerUser: false).status == 0)
            } else {
                #expect(try await fixture.run(["wal-get", "--repository", fixture.repository, name, restored + "/RECOVERYXLOG"], asServerUser: false).status == 1, "nothing half-written is returned")
                #expect(fixture.files(in: restored).isEmpty)
            }
            // PostgreSQL retries: the retry stores it and removes the dead push's temporary file.
            let retry = try await fixture.run(["wal-push", "--repository", fixture.repository, source + "/" + name], asServerUser: false)
            #expect(retry.status == 0, "\(retry.stderr)")
            #expect(fixture.files(in: directory) == ["\(name).zst"])
        }
    }
}
