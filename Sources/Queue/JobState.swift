import PostgresClient

/// Where a job is in its life (`jobs.state`). The raw values are the stored and printed strings.
package enum JobState: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed, cancelled

    /// A finished job runs again only when someone retries it.
    package var isFinished: Bool {
        switch self {
        case .succeeded, .failed, .cancelled: return true
        case .queued, .running: return false
        }
    }
}

extension JobState: PostgresDecodable {
    package init(postgresText: String) throws(PostgresError) {
        guard let state = JobState(rawValue: postgresText) else {
            throw PostgresError(code: .decoding, message: "cannot decode \(postgresText.prefix(64).debugDescription) as JobState")
        }
        self = state
    }
}
