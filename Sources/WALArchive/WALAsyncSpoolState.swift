import Foundation

/// What asynchronous archiving's spool says, for health sampling and `wal status`: whether a
/// background pusher runs (its lock is held), the backlog it last saw (`WALPusherState`) and
/// the segments it could not store (their `.error` files, which stay until PostgreSQL's retry).
/// Blocking.
package struct WALAsyncSpoolState: Sendable, Encodable {
    package struct Failure: Sendable, Encodable, Equatable {
        package let segment: String
        package let error: String
    }

    package let directory: String
    package let pusherRunning: Bool
    /// Nil until a pusher has run.
    package let pusher: WALPusherState?
    /// Oldest first; at most `failureLimit`, `failedCount` says how many.
    package let failures: [Failure]
    package let failedCount: Int

    static let failureLimit = 20

    enum CodingKeys: String, CodingKey {
        case directory, pusherRunning = "pusher_running", pusher, failures, failedCount = "failed_count"
    }

    package static func read(_ spool: WALSpool) -> WALAsyncSpoolState {
        let failed = spool.namesWithStatus().filter { name in
            access(spool.directory + "/" + name + ".error", F_OK) == 0
        }.sorted()
        let failures = failed.prefix(failureLimit).compactMap { name -> Failure? in
            guard let file = try? WALFileName(name), case .error(let reason)? = spool.status(of: file) else { return nil }
            return Failure(segment: name, error: reason)
        }
        return WALAsyncSpoolState(directory: spool.directory, pusherRunning: WALPusherLauncher.isRunning(spool: spool),
                                  pusher: WALPusherState.read(in: spool), failures: failures, failedCount: failed.count)
    }

    /// Seconds the oldest unstored segment has waited at `now`; 0 when none waits, nil when
    /// no pusher has run yet.
    package func oldestPendingSeconds(now: Date = Date()) -> Double? {
        guard let pusher else { return nil }
        guard pusher.pending > 0 else { return 0 }
        return pusher.oldestPendingSince.map { max(0, now.timeIntervalSince($0)) } ?? 0
    }
}
