import Logging
import Synchronization

/// Every line a logger wrote, with its metadata and when, for tests that look for what must not
/// be there, or for when something happened.
final class CapturedLog: Sendable {
    private let lines = Mutex<[(at: ContinuousClock.Instant, message: String, text: String)]>([])

    var text: String { lines.withLock { $0.map(\.text).joined(separator: "\n") } }

    /// When each line with exactly `message` and every one of `fields` (whole `key=value`
    /// words: `job.id=7` is not `job.id=70`) was written, oldest first.
    func times(of message: String, with fields: String...) -> [ContinuousClock.Instant] {
        lines.withLock { lines in
            lines.filter { line in
                let words = Set(line.text.split(separator: " ").map(String.init))
                return line.message == message && fields.allSatisfy(words.contains)
            }.map(\.at)
        }
    }

    var logger: Logger {
        var logger = Logger(label: "orchestrator.captured") { _ in Handler(log: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(message: String, _ line: String) { lines.withLock { $0.append((.now, message, line)) } }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = metadata.merging(event.metadata ?? [:]) { _, new in new }.map { "\($0.key)=\($0.value)" }.sorted()
            log.append(message: "\(event.message)", "\(event.level) \(event.message) \(fields.joined(separator: " "))")
        }
    }
}
