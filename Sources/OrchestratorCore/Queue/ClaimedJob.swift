import Foundation
import PostgresClient

/// A job a worker has claimed: the row's essentials plus the run (attempt) it opened.
public struct ClaimedJob: Sendable, Equatable {
    public let id: Int64
    public let runID: Int64
    public let kind: String
    public let target: String?
    public let arguments: [String: JSONValue]
    public let queue: String
    public let attempt: Int
    public let maxAttempts: Int
    public let timeoutSeconds: Int
    public let concurrencyKey: String?

    public var isLastAttempt: Bool { attempt >= maxAttempts }

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
