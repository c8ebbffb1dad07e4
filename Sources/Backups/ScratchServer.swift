import Foundation
import Support

/// A PostgreSQL server started from a restored data directory by `pg_ctl`, with the binaries
/// of the backup's major version. PostgreSQL refuses to run as root: as root, the directory is
/// handed to `runAs` (the `postgres` user by default) and the server runs as that user. The
/// server leaves `pg_ctl`'s process group (it makes itself a session leader), so it outlives
/// the command that started it until `stop()`.
struct ScratchServer: Sendable {
    let dataDirectory: String
    let socketDirectory: String
    let port: Int
    let binaries: String
    /// The user the server runs as when this process is root; nil otherwise.
    let runAs: String?
    /// Given to pg_ctl and so to the postmaster and every backend it starts.
    let priority: ProcessPriority

    static let logName = "orchestrator_pitr.log"
    var logFile: String { dataDirectory + "/" + Self.logName }

    init(dataDirectory: String, socketDirectory: String, port: Int, serverVersion: String, runAs: String?, priority: ProcessPriority = .normal) throws {
        self.priority = priority
        guard let pgCtl = ChildProcess.locate("pg_ctl", postgresMajor: serverVersion) else {
            throw BackupRequestError("pg_ctl for PostgreSQL \(serverVersion) not found; install the server package of the backup's major version")
        }
        self.dataDirectory = dataDirectory
        self.socketDirectory = socketDirectory
        self.port = port
        self.binaries = (pgCtl as NSString).deletingLastPathComponent
        self.runAs = getuid() == 0 ? (runAs ?? "postgres") : nil
    }

    /// Gives the data and socket directories to the server's user (as root only).
    func handOver() throws {
        guard let user = runAs else { return }
        guard let account = getpwnam(user) else {
            throw BackupRequestError("user \(user.debugDescription) does not exist; PostgreSQL cannot run as root, so a restore run as root starts the server as that user (install the postgresql package, or run as the server's user)")
        }
        let (uid, gid) = (account.pointee.pw_uid, account.pointee.pw_gid)
        for root in [dataDirectory, socketDirectory] {
            guard lchown(root, uid, gid) == 0 else { throw BackupError("cannot hand \(root) to \(user): \(String(cString: strerror(errno)))") }
            let walker = FileManager.default.enumerator(atPath: root)
            while let relative = walker?.nextObject() as? String {
                guard lchown(root + "/" + relative, uid, gid) == 0 else {
                    throw BackupError("cannot hand \(root)/\(relative) to \(user): \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    /// Starts the server; `pg_ctl` returns once the postmaster runs (recovery may go on).
    func start() async throws {
        try await pgCtl(["start", "--wait", "--timeout=300", "--log=\(logFile)", "--silent"])
    }

    /// Whether the postmaster of this data directory is alive.
    var isRunning: Bool {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(first.trimmingCharacters(in: .whitespaces)), pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Stops the server: fast (rolls back sessions), then immediate if that did not work.
    func stop() async {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid") else { return }
        if (try? await pgCtl(["stop", "--wait", "--timeout=60", "--mode=fast", "--silent"])) == nil {
            try? await pgCtl(["stop", "--wait", "--timeout=30", "--mode=immediate", "--silent"])
        }
    }

    /// Stops whatever server runs from `dataDirectory` (a drill's scratch cluster), if any.
    static func stopped(dataDirectory: String, runAs: String) async {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid"),
              let server = try? ScratchServer(dataDirectory: dataDirectory, socketDirectory: "", port: 0, serverVersion: Self.majorVersion(of: dataDirectory), runAs: runAs) else { return }
        await server.stop()
    }

    /// The major version a data directory was made by (`PG_VERSION`).
    private static func majorVersion(of dataDirectory: String) -> String {
        ((try? String(contentsOfFile: dataDirectory + "/PG_VERSION", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func pgCtl(_ arguments: [String]) async throws {
        let command = [binaries + "/pg_ctl", "--pgdata=\(dataDirectory)"] + arguments
        if let user = runAs {
            guard let runuser = ChildProcess.locate("runuser") else { throw BackupRequestError("runuser not found (util-linux)") }
            try await ChildProcess.run(runuser, ["-u", user, "--"] + command, priority: priority)
        } else {
            try await ChildProcess.run(command[0], Array(command.dropFirst()), priority: priority)
        }
    }

    /// The end of the server's log: what to show when recovery fails.
    func logTail(maxBytes: Int = 16_384) -> String {
        guard let handle = FileHandle(forReadingAtPath: logFile) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > UInt64(maxBytes) ? size - UInt64(maxBytes) : 0)
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }
}
