import ArgumentParser
import Foundation
import WALArchive

/// The background pusher `wal-push --async` starts (not for people: hidden). It finds the
/// spool's lock on descriptor 3, already held for it by the call that started it, pushes until
/// idle and exits; its standard error is the spool's `pusher.log`.
struct WALPusherCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-pusher",
        abstract: "Background WAL pusher of wal-push --async (started by wal-push).",
        shouldDisplay: false
    )

    @Option var repository: String
    @Option var spool: String
    @Option var walDirectory: String
    @Option var pushAhead: Int = 16
    @Option var parallel: Int = 2
    @Option var idleSeconds: Int = 5

    /// The log stays small: it is cut when it passes this size at a start.
    static let logLimit: Int64 = 1 << 20

    func run() throws {
        let lock = WALPusherLauncher.lockDescriptor
        // The same open file description as the starter's: succeeds only if it was handed over.
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            printError("wal-pusher: no spool lock on descriptor \(lock); it is started by wal-push --async, not by hand")
            throw ExitCodes.usage
        }
        // PostgreSQL's signals to the archiver's group do not reach this session, but a terminal's might.
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let pid = Array("\(getpid())\n".utf8)
        ftruncate(lock, 0)
        _ = pid.withUnsafeBytes { pwrite(lock, $0.baseAddress, $0.count, 0) }
        var info = stat()
        if fstat(STDERR_FILENO, &info) == 0, Int64(info.st_size) > Self.logLimit { ftruncate(STDERR_FILENO, 0) }

        let pusher: WALBackgroundPusher
        do {
            var made = WALBackgroundPusher(
                push: WALPush(repository: try WALRepository(root: repository)), spool: try WALSpool(directory: spool), walDirectory: walDirectory)
            made.pushAhead = max(1, pushAhead)
            made.parallel = max(1, min(parallel, 8))
            made.idleTimeout = .seconds(max(1, idleSeconds))
            pusher = made
        } catch {
            printError("wal-pusher: \(error.message)")
            throw ExitCodes.configuration
        }
        pusher.run { line in
            let stamp = Date().formatted(.iso8601)
            FileHandle.standardError.write(Data("\(stamp) wal-pusher: \(line)\n".utf8))
        }
    }
}
