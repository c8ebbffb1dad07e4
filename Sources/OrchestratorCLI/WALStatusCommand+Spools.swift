import Foundation
import Settings
import Support
import WALArchive

extension WALStatusCommand {
    /// The spools this host has, when the configuration has them: `wal_stream`'s (completed
    /// segments not yet stored, the mover's error) and `wal_archive.async`'s (the pusher's
    /// backlog and failures). Read from files only, like the repository.
    struct Spools: Sendable {
        var stream: WALStreamSpoolState?
        var streamProblem: String?
        var async: WALAsyncSpoolState?
        var asyncProblem: String?

        static func read(_ configuration: Configuration) async -> Spools {
            await Blocking.run {
                var spools = Spools()
                if let settings = configuration.walStream {
                    do throws(WALArchiveError) {
                        spools.stream = try WALStreamSpoolState.read(directory: settings.spool)
                    } catch {
                        spools.streamProblem = error.message
                    }
                }
                if let settings = configuration.walArchive, settings.async {
                    do throws(WALArchiveError) {
                        let spool = try WALSpool(directory: settings.spool)
                        guard access(spool.directory, R_OK | X_OK) == 0 else {
                            throw WALArchiveError(.io, "cannot read spool \(spool.directory): \(String(cString: strerror(errno)))")
                        }
                        spools.async = WALAsyncSpoolState.read(spool)
                    } catch {
                        spools.asyncProblem = error.message
                    }
                }
                return spools
            }
        }

        func lines(now: Date = Date()) -> [String] {
            var lines: [String] = []
            if let stream {
                let oldest = stream.oldestWaiting.map { ", oldest \($0) since \(Output.ago(stream.oldestWaitingSince, now: now))" } ?? ""
                lines.append("stream spool \(stream.directory): \(stream.waiting) completed segment\(stream.waiting == 1 ? "" : "s") waiting\(oldest)"
                    + (stream.receiving.map { ", receiving \($0)" } ?? ""))
                if let error = stream.moveError {
                    lines.append("stream spool: moving fails since \(Output.ago(stream.moveErrorSince, now: now)): \(error)")
                }
            } else if let streamProblem {
                lines.append("stream spool: \(streamProblem)")
            }
            if let async {
                var line = "async spool \(async.directory): pusher \(async.pusherRunning ? "running" : "idle")"
                if let pusher = async.pusher {
                    line += ", \(pusher.pending) not stored yet"
                    if let name = pusher.oldestPending, pusher.pending > 0 {
                        line += " (oldest \(name), ready since \(Output.ago(pusher.oldestPendingSince, now: now)))"
                    }
                } else {
                    line += ", no pusher has run yet"
                }
                lines.append(line)
                for failure in async.failures { lines.append("async spool: \(failure.segment) not stored: \(failure.error)") }
                if async.failedCount > async.failures.count { lines.append("async spool: \(async.failedCount - async.failures.count) more failed segments") }
                if let error = async.pusher?.lastError, async.failures.isEmpty {
                    lines.append("async spool: last error \(Output.ago(async.pusher?.lastErrorAt, now: now)): \(error)")
                }
            } else if let asyncProblem {
                lines.append("async spool: \(asyncProblem)")
            }
            return lines
        }
    }
}
