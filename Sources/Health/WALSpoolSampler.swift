import Foundation
import Settings
import Support
import WALArchive

/// The spools' side of archive health, from files alone (a directory listing, a few `stat`s
/// and small reads): `wal_stream`'s spool (subject `wal_stream`) and, with `wal_archive.async`,
/// the background pusher's (subject `wal_async`). Nothing is sampled for a feature that is not
/// configured; a spool that cannot be read is a sample that says why. Blocking: call it from
/// the jobs lane.
package enum WALSpoolSampler {
    package static let streamSubject = "wal_stream"
    package static let asyncSubject = "wal_async"

    package static func sample(_ configuration: Configuration, now: Date = Date()) -> [HealthSample] {
        var samples: [HealthSample] = []
        if let stream = configuration.walStream { samples += streamSpool(stream, now: now) }
        if let archive = configuration.walArchive, archive.async { samples += asyncSpool(archive, now: now) }
        return samples
    }

    /// Completed segments pg_receivewal left that the mover has not stored, and its error.
    static func streamSpool(_ settings: WALStreamSettings, now: Date) -> [HealthSample] {
        let subject = streamSubject
        let metrics = ["wal.stream_spool_segments", "wal.stream_spool_oldest_seconds"]
        // Only the host whose worker streams has one; elsewhere that is no failure.
        guard access(settings.spool, F_OK) == 0 else {
            let message = "no stream spool \(settings.spool) on this host (the worker that streams creates it)"
            return metrics.map { .failure(.system, subject, $0, message, status: .absent) }
        }
        let state: WALStreamSpoolState
        do throws(WALArchiveError) {
            state = try WALStreamSpoolState.read(directory: settings.spool)
        } catch {
            return metrics.map { .failure(.system, subject, $0, "\(error.message); the worker's user must own the spool") }
        }
        var details: [String: JSONValue] = ["spool": .string(state.directory)]
        details["oldest_waiting"] = state.oldestWaiting.map(JSONValue.string)
        details["receiving"] = state.receiving.map(JSONValue.string)
        let oldest = state.oldestWaitingSince.map { max(0, now.timeIntervalSince($0)) } ?? 0
        var failing = details
        failing["move_error"] = state.moveError.map(JSONValue.string)
        return [
            HealthSample(.system, subject, "wal.stream_spool_segments", value: Double(state.waiting), unit: "count", details: details),
            HealthSample(.system, subject, "wal.stream_spool_oldest_seconds", value: oldest, unit: "seconds", details: details),
            HealthSample(.system, subject, "wal.stream_move_failing", value: state.moveError == nil ? 0 : 1, unit: "boolean",
                         status: state.moveError == nil ? .ok : .failed,
                         message: state.moveError.map { "streamed WAL cannot be stored: \($0)" }, details: failing),
        ]
    }

    /// Segments PostgreSQL marked ready that the background pusher has not stored, the age of
    /// the oldest, and the failures it left (`.error` files, its last error).
    static func asyncSpool(_ settings: WALArchiveSettings, now: Date) -> [HealthSample] {
        let subject = asyncSubject
        let metrics = ["wal.async_pending_segments", "wal.async_oldest_pending_seconds"]
        let spool: WALSpool
        do throws(WALArchiveError) {
            spool = try WALSpool(directory: settings.spool)
        } catch {
            return metrics.map { .failure(.system, subject, $0, error.message) }
        }
        guard access(spool.directory, F_OK) == 0 else {
            let message = "no spool \(spool.directory) on this host yet (the first wal-push --async call creates it)"
            return metrics.map { .failure(.system, subject, $0, message, status: .absent) }
        }
        guard access(spool.directory, R_OK | X_OK) == 0 else {
            let message = "cannot read spool \(spool.directory): \(String(cString: strerror(errno))); "
                + "make it readable by the orchestrator's user (its group, mode 0750) or set wal_archive.spool"
            return metrics.map { .failure(.system, subject, $0, message) }
        }
        let state = WALAsyncSpoolState.read(spool)
        var details: [String: JSONValue] = ["spool": .string(spool.directory), "pusher_running": .bool(state.pusherRunning)]
        var samples = [HealthSample(.system, subject, "wal.async_pusher_running", value: state.pusherRunning ? 1 : 0, unit: "boolean", details: details)]
        if let pusher = state.pusher, let oldest = state.oldestPendingSeconds(now: now) {
            details["state_updated_seconds"] = .double(max(0, now.timeIntervalSince(pusher.updatedAt)))
            details["oldest_pending"] = pusher.oldestPending.map(JSONValue.string)
            details["last_error"] = pusher.lastError.map(JSONValue.string)
            samples.append(HealthSample(.system, subject, "wal.async_pending_segments", value: Double(pusher.pending), unit: "count", details: details))
            samples.append(HealthSample(.system, subject, "wal.async_oldest_pending_seconds", value: oldest, unit: "seconds", details: details))
        } else {
            let message = "no background pusher has run yet (it starts with the first wal-push --async call)"
            samples += metrics.map { .failure(.system, subject, $0, message, status: .unknown, details: details) }
        }
        var failing = details
        if !state.failures.isEmpty { failing["failed_segments"] = .array(state.failures.map { .string($0.segment) }) }
        let message = state.failures.first.map { failure in
            "the background pusher could not store \(failure.segment)\(state.failedCount > 1 ? " and \(state.failedCount - 1) more" : ""): \(failure.error)"
        }
        samples.append(HealthSample(.system, subject, "wal.async_failing", value: state.failedCount == 0 ? 0 : 1, unit: "boolean",
                                    status: state.failedCount == 0 ? .ok : .failed, message: message, details: failing))
        return samples
    }
}
