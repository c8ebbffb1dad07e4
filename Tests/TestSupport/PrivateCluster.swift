import Foundation
import PostgresClient

/// A PostgreSQL cluster of a test's own (for settings the shared test server must not get, such
/// as `archive_mode`), on a private socket directory with no TCP listener. As root the server
/// tools run as `postgres` (PostgreSQL refuses root), so everything the server touches is
/// handed to that user. Always stopped and deleted when the body ends, however it ends.
public struct PrivateCluster: Sendable {
    /// The work directory (mode 0755, so `postgres` can reach what the test puts there).
    public let directory: String
    public let dataDirectory: String
    public let socketDirectory: String
    public static let port = 5432  // the socket lives in a private directory: no clash

    public var configuration: ConnectionConfiguration {
        ConnectionConfiguration(connectionString: "postgresql:///postgres?host=\(socketDirectory)&port=\(Self.port)&user=postgres", applicationName: "orchestrator-tests")
    }

    public static var runsAsRoot: Bool { getuid() == 0 }

    /// Creates a cluster under `directory` (which the caller owns and removes), with `settings`
    /// appended to postgresql.conf, starts it, runs `body` and stops it. With `dataFrom` (a base
    /// backup owned by the server user) that data directory is moved in instead of running
    /// initdb; `prepare` may add files such as `recovery.signal` before the start.
    public static func with<T: Sendable>(
        settings: [String: String] = [:], in directory: String, dataFrom: String? = nil, prepare: (PrivateCluster) throws -> Void = { _ in },
        _ body: (PrivateCluster) async throws -> T
    ) async throws -> T {
        let cluster = PrivateCluster(directory: directory, dataDirectory: directory + "/data", socketDirectory: directory + "/sockets")
        try FileManager.default.createDirectory(atPath: cluster.socketDirectory, withIntermediateDirectories: true)
        try handToServerUser(cluster.socketDirectory)
        do {
            if let dataFrom {
                try FileManager.default.moveItem(atPath: dataFrom, toPath: cluster.dataDirectory)
                try cluster.append(settings: settings)
            } else {
                try cluster.initialize(settings: settings)
            }
            try prepare(cluster)
            try cluster.start()
            let value = try await body(cluster)
            cluster.stop()
            return value
        } catch {
            cluster.stop()
            throw error
        }
    }

    /// The newest installed server binaries, as scripts/lib/common.sh finds them.
    public static func binaryDirectory() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        guard let newest = versions.compactMap(Int.init).max(), FileManager.default.isExecutableFile(atPath: "\(root)/\(newest)/bin/initdb") else {
            throw TestEnvironmentError("PostgreSQL server binaries not found under \(root) (install the postgresql package; scripts/test does)")
        }
        return "\(root)/\(newest)/bin"
    }

    /// Gives `path` to `postgres` when running as root (nothing to do otherwise).
    public static func handToServerUser(_ path: String) throws {
        guard runsAsRoot else { return }
        guard let user = getpwnam("postgres") else { throw TestEnvironmentError("no postgres user; install the postgresql package") }
        guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
            throw TestEnvironmentError("cannot chown \(path) to postgres: \(String(cString: strerror(errno)))")
        }
    }

    /// Runs a program as the cluster's owner (`runuser -u postgres` as root); returns its status
    /// and output. Through `system()`, not `Process`: `pg_ctl start` leaves a daemon holding the
    /// descriptors it inherited, and `Process` would wait for them to close.
    @discardableResult
    public static func runAsServerUser(_ arguments: [String], check: Bool = true) throws -> (status: Int32, output: String) {
        let full = runsAsRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments : arguments
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-\(UUID().uuidString).out").path
        defer { unlink(outputPath) }
        let quoted = full.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let result = system("\(quoted) </dev/null >'\(outputPath)' 2>&1")
        let status = result & 0x7F == 0 ? (result >> 8) & 0xFF : 128 + (result & 0x7F)
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        if check, status != 0 {
            throw TestEnvironmentError("\(arguments.joined(separator: " ")) exited \(status): \(output)")
        }
        return (status, output)
    }

    private func initialize(settings: [String: String]) throws {
        let bin = try Self.binaryDirectory()
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        try Self.handToServerUser(dataDirectory)
        chmod(dataDirectory, 0o700)
        try Self.runAsServerUser(["\(bin)/initdb", "-D", dataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        try append(settings: settings)
    }

    /// Appends this cluster's socket settings and `settings` to postgresql.conf (the last value wins).
    private func append(settings: [String: String]) throws {
        var lines = [
            "port = \(Self.port)", "unix_socket_directories = '\(socketDirectory)'", "listen_addresses = ''",
            "fsync = off", "max_connections = 20",
        ]
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            lines.append("\(key) = '\(value.replacingOccurrences(of: "'", with: "''"))'")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/postgresql.conf"))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("\n" + lines.joined(separator: "\n") + "\n").utf8))
    }

    private func start() throws {
        let bin = try Self.binaryDirectory()
        let (status, output) = try Self.runAsServerUser(["\(bin)/pg_ctl", "-D", dataDirectory, "-l", dataDirectory + "/server.log", "-w", "-t", "60", "start"], check: false)
        guard status == 0 else {
            let log = (try? String(contentsOfFile: dataDirectory + "/server.log", encoding: .utf8)) ?? ""
            throw TestEnvironmentError("private PostgreSQL did not start: \(output)\n\(log.suffix(2000))")
        }
    }

    /// Stops the server at once; the caller removes the directory.
    public func stop() {
        guard let bin = try? Self.binaryDirectory() else { return }
        _ = try? Self.runAsServerUser(["\(bin)/pg_ctl", "-D", dataDirectory, "-m", "immediate", "-w", "stop"], check: false)
    }

    /// The server log so far, for failure messages.
    public var serverLog: String {
        (try? String(contentsOfFile: dataDirectory + "/server.log", encoding: .utf8)).map { String($0.suffix(4000)) } ?? ""
    }
}
