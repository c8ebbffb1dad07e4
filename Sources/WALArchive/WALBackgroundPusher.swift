import Foundation
import Synchronization

/// The process behind `wal-push --async`: pushes what PostgreSQL has marked ready
/// (`pg_wal/archive_status/NAME.ready`), oldest first, up to `pushAhead` at a time, `parallel`
/// at once, and records each result in the spool for the `wal-push` call PostgreSQL makes for
/// it. Exits after `idleTimeout` without anything to push. Blocking: it is a process of its
/// own, started by `WALPusherLauncher`, holding the spool's lock; its threads are its own.
///
/// A file that has a status is skipped: an `.ok` waits for PostgreSQL's call to consume it, an
/// `.error` for the next call to remove it (that call asks for a retry), so a lasting failure
/// (full disk) is retried at PostgreSQL's pace, not in a loop. Statuses of files no longer ready
/// (PostgreSQL archived them, or they were removed) are dropped.
package struct WALBackgroundPusher: Sendable {
    package let push: WALPush
    package let spool: WALSpool
    /// The server's pg_wal directory (absolute).
    package let walDirectory: String
    package var pushAhead = 16
    package var parallel = 2
    package var idleTimeout: Duration = .seconds(5)
    /// How often an idle pusher looks for new `.ready` files: one directory read each time.
    package var pollInterval: Duration = .milliseconds(20)

    package init(push: WALPush, spool: WALSpool, walDirectory: String) {
        self.push = push
        self.spool = spool
        self.walDirectory = walDirectory
    }

    /// Runs until idle. `log` gets one line per start, failure and exit.
    package func run(log: (String) -> Void) {
        log("started (pid \(getpid()), pushing from \(walDirectory) into \(push.repository.root))")
        var idleSince = ContinuousClock.now
        var pushed = 0
        var state = WALPusherState.read(in: spool) ?? WALPusherState()
        state.pid = getpid()
        var reported: WALPusherState?
        while true {
            let ready = readyFiles()
            dropStatuses(notIn: Set(ready.map(\.name)))
            // Not stored yet: no `.ok` (an `.error` one waits for PostgreSQL's retry, still pending).
            let unstored = ready.filter { !spool.isStored($0) }
            note(unstored, in: &state)
            if reported.map({ !$0.sameReport(as: state) }) ?? true {
                state.updatedAt = Date()
                state.write(in: spool)
                reported = state
            }
            let batch = Array(unstored.filter { !spool.hasStatus($0) }.prefix(pushAhead))
            if batch.isEmpty {
                if ContinuousClock.now - idleSince >= idleTimeout { break }
                Self.sleep(pollInterval)
                continue
            }
            let failures = pushAll(batch)
            for failure in failures { log(failure) }
            if let last = failures.last {
                state.lastError = last
                state.lastErrorAt = Date()
            }
            pushed += batch.count
            idleSince = ContinuousClock.now
        }
        log("idle, exiting after \(pushed) files")
    }

    /// Updates the backlog in `state`: how many wait, and since when the oldest one has (read
    /// only when the oldest changes: one `stat`).
    private func note(_ unstored: [WALFileName], in state: inout WALPusherState) {
        state.pending = unstored.count
        guard let oldest = unstored.first else {
            state.oldestPending = nil
            state.oldestPendingSince = nil
            return
        }
        guard oldest.name != state.oldestPending else { return }
        state.oldestPending = oldest.name
        var info = stat()
        state.oldestPendingSince = stat(walDirectory + "/archive_status/" + oldest.name + ".ready", &info) == 0
            ? Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec)) : Date()
    }

    /// Files PostgreSQL waits to archive, oldest first (by name: a timeline's history file sorts
    /// before its segments, and every timeline after its parent).
    func readyFiles() -> [WALFileName] {
        DirectoryNames.list(walDirectory + "/archive_status").compactMap { entry -> WALFileName? in
            guard entry.hasSuffix(".ready") else { return nil }
            return try? WALFileName(String(entry.dropLast(6)))
        }.sorted { $0.name < $1.name }
    }

    private func dropStatuses(notIn ready: Set<String>) {
        for name in spool.namesWithStatus() where !ready.contains(name) {
            if let file = try? WALFileName(name) { spool.remove(file) }
        }
    }

    /// Pushes `batch` on up to `parallel` threads; returns the failures, for the log.
    private func pushAll(_ batch: [WALFileName]) -> [String] {
        let next = Mutex(0)
        let failures = Mutex<[String]>([])
        let lanes = max(1, min(parallel, batch.count))
        // Threads of Dispatch's own pool, not Swift's cooperative one: each lane blocks in I/O.
        DispatchQueue.concurrentPerform(iterations: lanes) { _ in
            while true {
                let index = next.withLock { value -> Int in
                    defer { value += 1 }
                    return value
                }
                guard index < batch.count else { return }
                if let failure = pushOne(batch[index]) { failures.withLock { $0.append(failure) } }
            }
        }
        return failures.withLock { $0 }
    }

    /// Pushes one file and records the outcome; returns a failure line, or nil.
    private func pushOne(_ file: WALFileName) -> String? {
        let path = walDirectory + "/" + file.name
        // PostgreSQL may have archived it since the listing (a call consumed its `.ok`): pushing
        // again would only verify the stored copy, a decompression for nothing.
        guard access(walDirectory + "/archive_status/" + file.name + ".ready", F_OK) == 0 else { return nil }
        let identity = WALFileIdentity.of(path)
        do throws(WALArchiveError) {
            let outcome = try push.push(path: path)
            guard var identity else { throw WALArchiveError(.io, "\(path) vanished after it was pushed") }
            switch outcome {
            case .stored(let trailer, _), .alreadyArchived(let trailer), .repaired(let trailer, _, _):
                identity.sha256Hex = trailer.sha256Hex
            }
            try spool.record(.ok(identity), for: file)
            if case .repaired(_, _, let damage) = outcome { return "\(file): replaced a damaged copy (\(damage))" }
            return nil
        } catch {
            do throws(WALArchiveError) {
                try spool.record(.error(error.message), for: file)
            } catch let unrecorded {
                return "\(file): \(error.message); and the error could not be recorded: \(unrecorded.message)"
            }
            return "\(file): \(error.message)"
        }
    }

    static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
