import Foundation
import Support

/// How one attempt ended, as recorded in `job_runs.status` and reflected on the job.
package enum JobOutcome: Sendable, Equatable {
    case succeeded(result: [String: JSONValue])
    /// Failed; `retryAfter` nil means final (permanent error or last attempt). `result` keeps
    /// what a job finished before it failed.
    case failed(error: String, retryAfter: Duration?, result: [String: JSONValue]? = nil)
    case timedOut(error: String, retryAfter: Duration?)
    /// Cancelled by `jobs cancel`: final.
    case cancelled
    /// Given back on shutdown or lease loss: the job is queued again without using up an attempt.
    /// Recorded `released`, so history tells it from a dead worker's `abandoned` run.
    case released(reason: String)

    var runStatus: RunStatus {
        switch self {
        case .succeeded: return .succeeded
        case .failed: return .failed
        case .timedOut: return .timedOut
        case .cancelled: return .cancelled
        case .released: return .released
        }
    }
}
