import Foundation
import TestSupport

/// A work directory for WAL tests that the `postgres` user can use when the tests run as root:
/// the directory is 0755, the built binary is copied into it (the checkout may sit where
/// postgres cannot go, such as /root), and the repository belongs to postgres, as it will in
/// production. Removed when the body ends.
struct WALFixture: Sendable {
    let directory: String
    let binary: String
    let repository: String

    struct Run {
        let status: Int32
        let stderr: String
        let seconds: Double
    }

    static func with<T: Sendable>(_ body: (WALFixture) async throws -> T) async throws -> T {
        var template = Array("/tmp/orchestrator-wal.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestEnvironmentError("mkdtemp: \(String(cString: strerror(errno)))") }
        let directory = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        chmod(directory, 0o755)
        let fixture = WALFixture(directory: directory, binary: directory + "/bin/orchestrator", repository: directory + "/repository")
        try FileManager.default.createDirectory(atPath: directory + "/bin", withIntermediateDirectories: true)
        chmod(directory + "/bin", 0o755)
        try FileManager.default.copyItem(atPath: Harness.binary.path, toPath: fixture.binary)
        chmod(fixture.binary, 0o755)
        try fixture.makeServerDirectory(fixture.repository)
        return try await body(fixture)
    }

    /// A directory the server user owns (0750).
    func makeServerDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o750)
        try PrivateCluster.handToServerUser(path)
    }

    /// Runs the copied binary as the server user, as PostgreSQL would (or as the test's own user).
    func run(_ arguments: [String], asServerUser: Bool = true) async throws -> Run {
        let process = Process()
        let full = PrivateCluster.runsAsRoot && asServerUser ? ["/usr/sbin/runuser", "-u", "postgres", "--", binary] + arguments : [binary] + arguments
        process.executableURL = URL(fileURLWithPath: full[0])
        process.arguments = Array(full.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        let started = ContinuousClock.now
        try process.run()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        try await exited(process)
        let elapsed = ContinuousClock.now - started
        return Run(status: process.terminationStatus, stderr: String(decoding: stderr, as: UTF8.self),
                   seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    func push(_ path: String) async throws -> Run {
        try await run(["wal-push", "--repository", repository, path])
    }

    func get(_ name: String, to destination: String) async throws -> Run {
        try await run(["wal-get", "--repository", repository, name, destination])
    }

    func stored(_ name: String) -> String {
        let timeline = String(name.prefix(8))
        if name.hasSuffix(".history") { return "\(repository)/wal/\(timeline)/\(name).zst" }
        return "\(repository)/wal/\(timeline)/\(name.prefix(16))/\(name).zst"
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func files(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }
}
