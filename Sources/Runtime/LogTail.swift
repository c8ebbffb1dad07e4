import Foundation
import Logging
import Synchronization

/// The last lines a job logged, kept for `job_runs.log_tail` (bounded: a chatty job cannot
/// grow the row or the worker's memory).
final class LogTail: Sendable {
    private let lines = Mutex<[String]>([])
    let maxLines: Int
    let maxBytes: Int

    init(maxLines: Int = 100, maxBytes: Int = 16 * 1024) {
        self.maxLines = maxLines
        self.maxBytes = maxBytes
    }

    func append(_ line: String) {
        let clipped = line.utf8.count > 1024 ? String(line.prefix(1000)) + "…" : line
        lines.withLock { lines in
            lines.append(clipped)
            if lines.count > maxLines { lines.removeFirst(lines.count - maxLines) }
            var total = lines.reduce(0) { $0 + $1.utf8.count + 1 }
            while total > maxBytes, !lines.isEmpty {
                total -= lines.removeFirst().utf8.count + 1
            }
        }
    }

    var text: String? {
        let joined = lines.withLock { $0.joined(separator: "\n") }
        return joined.isEmpty ? nil : joined
    }
}

/// Sends each record to the worker's own logger and to the job's tail.
struct JobLogHandler: LogHandler {
    let upstream: Logger
    let tail: LogTail
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    init(upstream: Logger, tail: LogTail) {
        self.upstream = upstream
        self.tail = tail
        self.logLevel = min(upstream.logLevel, .info)
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        if event.level >= upstream.logLevel {
            upstream.log(level: event.level, event.message, metadata: merged, source: event.source, file: event.file, function: event.function, line: event.line)
        }
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        tail.append("\(Self.timeOfDay()) \(event.level) \(event.message)\(fields.isEmpty ? "" : " " + fields)")
    }

    /// `HH:MM:SS.mmm` in UTC. Formatted by hand: every job logs a few lines, and a Foundation
    /// date style costs more than the rest of logging them.
    static func timeOfDay(_ date: Date = Date()) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let ofDay = Int(milliseconds % 86_400_000)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = ofDay % 1000
        let millisText = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(two(ofDay / 3_600_000)):\(two(ofDay / 60_000 % 60)):\(two(ofDay / 1000 % 60)).\(millisText)"
    }
}
