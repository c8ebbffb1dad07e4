import Support
import Synchronization

/// The WARNINGs the server sent on a job's database connections, for the run's result: some
/// are the only sign that a statement did less than asked. Bounded, like the log tail.
final class ServerWarnings: Sendable {
    private let messages = Mutex<[String]>([])
    let limit = 50

    func append(_ message: String) {
        messages.withLock { if $0.count < limit { $0.append(message) } }
    }

    var all: [String] { messages.withLock { $0 } }

    /// `result` with the warnings under `server_warnings` (unless the kind already put them there).
    func added(to result: [String: JSONValue]) -> [String: JSONValue] {
        let all = self.all
        guard !all.isEmpty, result["server_warnings"] == nil else { return result }
        var result = result
        result["server_warnings"] = .array(all.map(JSONValue.string))
        return result
    }
}
