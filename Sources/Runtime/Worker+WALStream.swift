import Database
import Foundation
import Logging
import Settings
import Support
import WALArchive

extension Worker {
    /// The session advisory lock (on the orchestrator's database) that makes one worker, on any
    /// host, the one that streams: held by its connection, so it goes when that worker stops,
    /// crashes or loses the connection, and another worker takes over.
    static var walStreamLockKey: Int64 { WALStreamSettings.lockKey }

    /// How often a worker that does not stream asks for the lock: one cheap query.
    static let walStreamStandbyInterval: Duration = .seconds(15)

    /// Streams WAL with `pg_receivewal` while this worker holds the stream lock; stops the
    /// child and releases the lock (closes its connection) when cancelled at shutdown.
    func walStreamLoop(_ settings: WALStreamSettings) async {
        while !Task.isCancelled {
            let lock = ConnectionHolder(connector: connector, logger: logger, purpose: "wal stream")
            do {
                let held: Bool = try await lock.use { connection in
                    let held: Bool = try await connection.query("SELECT pg_try_advisory_lock($1) AS held", [Self.walStreamLockKey]).first!.decode("held")
                    // Names the streaming worker to `status`, which finds the lock's session in pg_locks.
                    if held {
                        _ = try await connection.query("SELECT set_config('application_name', $1, false)",
                                                       [String((WALStreamSettings.lockHolderPrefix + identity.id).prefix(63))])
                    }
                    return held
                }
                if held {
                    logger.info("streaming WAL", metadata: ["db.name": "\(settings.database)", "wal.slot": "\(settings.slot)", "wal.spool": "\(settings.spool)"])
                    await streamWhileLocked(settings, lock: lock)
                }
            } catch {
                if !Task.isCancelled { logger.warning("WAL stream lock failed; will retry", metadata: ["error": "\(error)"]) }
            }
            lock.close()  // releases the lock if held
            try? await Task.sleep(for: Self.walStreamStandbyInterval)
        }
    }

    /// Runs the receiver and the mover until the lock's connection breaks (the lock is gone
    /// with it: another worker may take over) or the task is cancelled.
    private func streamWhileLocked(_ settings: WALStreamSettings, lock: ConnectionHolder) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.superviseReceiver(settings) }
            group.addTask { await self.moveStreamedWAL(settings) }
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: .seconds(5))
                    try await lock.use { connection in try await connection.execute("SELECT 1") }
                } catch {
                    if !Task.isCancelled { logger.warning("lost the WAL stream lock's connection; stopping pg_receivewal", metadata: ["error": "\(error)"]) }
                    break
                }
            }
            group.cancelAll()
        }
    }

    /// Keeps `pg_receivewal` running: creates the slot if missing, restarts the tool with backoff
    /// whenever it exits (server restart, network, `kill`), and stops it (SIGTERM, then SIGKILL)
    /// when cancelled. Its process group dies with the worker (`ChildProcess`).
    private func superviseReceiver(_ settings: WALStreamSettings) async {
        let backoff = Backoff(base: .seconds(1), cap: .seconds(60))
        var attempt = 0
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                guard let tool = ChildProcess.locate("pg_receivewal") else {
                    throw WALStreamSetupError("pg_receivewal not found on PATH or under /usr/lib/postgresql/*/bin; install the PostgreSQL client package")
                }
                let environment = try connector.configuration(forDatabase: settings.database, in: configuration).toolEnvironment
                try await Blocking.run { () throws(WALArchiveError) in try WALSpool(directory: settings.spool).prepare() }
                try await ChildProcess.run(tool, ["--slot=\(settings.slot)", "--create-slot", "--if-not-exists", "--no-password"], environment: environment)
                try await ChildProcess.run(tool, ["--directory=\(settings.spool)", "--slot=\(settings.slot)", "--no-loop", "--no-password"], environment: environment)
                logger.warning("pg_receivewal exited; restarting")
            } catch {
                if Task.isCancelled { return }
                logger.warning("pg_receivewal failed; restarting", metadata: ["error": "\(error)"])
            }
            // A receiver that streamed for a while starts the backoff over.
            if ContinuousClock.now - started > .seconds(60) { attempt = 0 }
            attempt += 1
            do { try await Task.sleep(for: backoff.delay(attempt: attempt)) } catch { return }
        }
    }

    /// Moves completed segments from the spool into the repository every second; a failure is
    /// logged when it changes, and retried.
    private func moveStreamedWAL(_ settings: WALStreamSettings) async {
        let spool: WALStreamSpool
        do {
            guard let root = configuration.walArchive?.repository else {
                throw WALStreamSetupError("wal_stream needs wal_archive.repository, where streamed segments are stored")
            }
            spool = WALStreamSpool(directory: settings.spool, push: WALPush(repository: try WALRepository(root: root)))
        } catch {
            logger.error("WAL stream repository is not usable", metadata: ["error": "\(error)"])
            return
        }
        // An error file left by an earlier streamer is removed after this one's first good round.
        var lastProblem: String? = ""
        while !Task.isCancelled {
            do {
                let moved = try await Blocking.run { () throws(WALArchiveError) in try spool.moveCompleted() }
                if !moved.isEmpty { logger.debug("streamed WAL stored", metadata: ["wal.files": "\(moved.joined(separator: ","))"]) }
                if lastProblem != nil { await Blocking.run { spool.clearMoveError() } }
                lastProblem = nil
            } catch {
                if error.message != lastProblem {
                    logger.error("cannot store streamed WAL; will retry", metadata: ["error": "\(error.message)"])
                    lastProblem = error.message
                    // Kept in the spool too, where health sampling and `wal status` read it.
                    let message = error.message
                    await Blocking.run { spool.recordMoveError(message) }
                }
            }
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }
}
