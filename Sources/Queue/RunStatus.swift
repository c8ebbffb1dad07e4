import PostgresClient

/// How one attempt stands or ended (`job_runs.status`). The raw values are the stored and
/// printed strings.
package enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running, succeeded, failed
    case timedOut = "timed_out"
    case cancelled
    /// The worker's lease expired (it died or lost the database); the reaper closed the run.
    case abandoned
    /// Given back on shutdown or lease loss without using up an attempt.
    case released
}

extension RunStatus: PostgresDecodable {
    package init(postgresText: String) throws(PostgresError) {
        guard let status = RunStatus(rawValue: postgresText) else {
            throw PostgresError(code: .decoding, message: "cannot decode \(postgresText.prefix(64).debugDescription) as RunStatus")
        }
        self = status
    }
}
