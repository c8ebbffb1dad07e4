import Foundation
import PostgresClient
import Support

/// A job a worker has claimed: the row's essentials plus the run (attempt) it opened.
package struct ClaimedJob: Sendable, Equatable {
    package let id: Int64
    package let runID: Int64
    package let kind: String
    package let target: String?
    package let arguments: [String: JSONValue]
    package let queue: String
    package let attempt: Int
    package let maxAttempts: Int
    package let timeoutSeconds: Int
    package let concurrencyKey: String?

    package var isLastAttempt: Bool { attempt >= maxAttempts }

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        runID = try row.decode("run_id")
        kind = try row.decode("kind")
        target = try row.decodeIfPresent("target")
        let argsText: String = try row.decode("args")
        // Most jobs have no arguments; skip the decoder for them.
        if argsText == "{}" {
            arguments = [:]
        } else if case .object(let object) = try JSONValue.parse(argsText) {
            arguments = object
        } else {
            arguments = [:]
        }
        queue = try row.decode("queue")
        attempt = try row.decode("attempts")
        maxAttempts = try row.decode("max_attempts")
        timeoutSeconds = try row.decode("timeout_seconds")
        concurrencyKey = try row.decodeIfPresent("concurrency_key")
    }
}
