import Foundation
@testable import Health
@testable import Support
import Testing

@Suite("Child processes")
struct ChildProcessTests {
    @Test func outputGoesToTheFileAndStatusIsReported() async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let outcome = try await ChildProcess.run("/bin/sh", ["-c", "printf 'hello %s' \"$GREETING\""], environment: ["GREETING": "world"], standardOutput: output)
        #expect(outcome.exitStatus == 0)
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "hello world")
        let attributes = try FileManager.default.attributesOfItem(atPath: output)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test func aFailingToolThrowsWithItsStatusAndStandardError() async throws {
        let failure = await #expect(throws: ChildProcess.Failure.self) {
            try await ChildProcess.run("/bin/sh", ["-c", "echo 'pg_dump: error: connection refused' >&2; exit 3"])
        }
        #expect(failure?.outcome.exitStatus == 3)
        #expect(failure?.description == "sh exited with status 3: pg_dump: error: connection refused")
    }

    @Test func cancellingStopsTheWholeProcessGroup() async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)").path
        let started = ContinuousClock.now
        let task = Task {
            // The grandchild writes the marker only if it outlives the cancel.
            try await ChildProcess.run("/bin/sh", ["-c", "(sleep 3; touch \(marker)) & sleep 30"], killGrace: .milliseconds(500))
        }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - started < .seconds(3))
        try await Task.sleep(for: .seconds(4))
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func helpersAToolLeavesBehindDieWhenItExits() async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        // The helper lets go of standard error, so the tool's exit is seen at once.
        let outcome = try await ChildProcess.run("/bin/sh", ["-c", "(sleep 2; touch \(marker)) 2>/dev/null & exit 0"])
        #expect(outcome.exitStatus == 0)
        try await Task.sleep(for: .seconds(3))
        #expect(!FileManager.default.fileExists(atPath: marker), "a helper outlived its tool and kept writing")
    }

    @Test func aChildHoldsTheDescriptorsItIsGiven() async throws {
        let lockPath = FileManager.default.temporaryDirectory.appendingPathComponent("child-lock-\(UUID().uuidString)").path
        defer { unlink(lockPath) }
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(flock(descriptor, LOCK_EX) == 0)
        let child = Task { try await ChildProcess.run("/bin/sleep", ["30"], inheriting: [descriptor], killGrace: .milliseconds(200)) }
        try await Task.sleep(for: .milliseconds(300))
        close(descriptor)
        let probe = open(lockPath, O_RDWR | O_CLOEXEC)
        defer { close(probe) }
        #expect(flock(probe, LOCK_EX | LOCK_NB) != 0, "the child holds the lock while it lives")
        child.cancel()
        _ = try? await child.value
        #expect(flock(probe, LOCK_EX | LOCK_NB) == 0, "the lock is free once the child is gone")
    }

    @Test func aMissingExecutableIsAClearError() async throws {
        let failure = await #expect(throws: ChildProcess.Failure.self) {
            try await ChildProcess.run("/nonexistent/pg_dump", [])
        }
        #expect(failure?.description.contains("cannot start") == true)
    }

    @Test func postgresToolsAreFound() {
        #expect(ChildProcess.locate("pg_dump")?.hasSuffix("/pg_dump") == true)
        #expect(ChildProcess.locate("no-such-tool-here") == nil)
        // A server tool of the data directory's major version comes first, whatever PATH holds.
        let majors = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init)
        for major in majors {
            let versioned = "/usr/lib/postgresql/\(major)/bin/pg_ctl"
            guard FileManager.default.isExecutableFile(atPath: versioned) else { continue }
            #expect(ChildProcess.locate("pg_ctl", postgresMajor: "\(major).3 (Debian \(major).3-1)") == versioned)
            #expect(ChildProcess.locate("pg_ctl", postgresMajor: "\(major)") == versioned)
        }
    }
}

@Suite("Child process descriptors")
struct ChildProcessDescriptorTests {
    @Test func aChildInheritsOnlyStandardInputOutputAndError() async throws {
        #expect(SpawnCloseFrom.isAvailable, "glibc 2.34+ provides posix_spawn_file_actions_addclosefrom_np")
        // A descriptor the worker holds open without close-on-exec, as a library might.
        var held: [Int32] = [0, 0]
        #expect(pipe(&held) == 0)
        defer { close(held[0]); close(held[1]) }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("child-fds-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        // The shell lists its own descriptors (ls would add one of its own for the directory).
        let outcome = try await ChildProcess.run("/bin/sh", ["-c", "for fd in /proc/$$/fd/*; do echo ${fd##*/}; done"], standardOutput: output)
        #expect(outcome.exitStatus == 0)
        let descriptors = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }.sorted()
        #expect(descriptors.first == 0)
        #expect(!descriptors.contains(held[0]) && !descriptors.contains(held[1]), "inherited \(descriptors)")
        // 3 is the directory the shell itself opens to expand the glob.
        #expect(descriptors.allSatisfy { $0 <= 3 }, "descriptors beyond the standard three: \(descriptors)")
    }
}
