import Logging
import PostgresClient
import Queue
import Settings
import Support

/// One kind of work the queue can hold (`noop`, `sql`, later `backup`, `vacuum`, ...).
///
/// A kind validates its target and arguments when the job is enqueued, so a bad request is
/// rejected at once instead of being stored to fail at 2 AM, and it runs the job on a worker.
/// Both get the arguments typed and decoded, defaults applied (`JobKind+Arguments.swift` decodes
/// them for the registry and the worker, which see kinds only as `any JobKind`).
package protocol JobKind: Sendable {
    /// The kind's arguments as one struct; `NoArguments` for a kind that takes none.
    associatedtype Arguments: JobArguments = NoArguments

    var name: String { get }
    var summary: String { get }
    var target: TargetRule { get }
    var defaultMaxAttempts: Int { get }
    var defaultTimeoutSeconds: Int { get }
    /// Jobs that need this host's files or /proc run on the enqueuing host's own queue.
    var placement: Placement { get }
    /// Jobs that finish in well under a second. A worker may claim them ahead of a free slot
    /// (`worker.prefetch`); other kinds are claimed only when a slot is free, so a long job never
    /// waits on one worker while another is idle.
    var isShort: Bool { get }

    /// Checks the target against the configuration and returns the concurrency key the job
    /// holds while running (for example `db:trading_agent`), if any.
    func validate(target: String?, arguments: Arguments, configuration: Configuration) throws(JobValidationError) -> String?

    /// Does the work. Returns the result stored in `job_runs.result`. Cancellation arrives as
    /// task cancellation and must stop the work within seconds.
    func run(_ job: ClaimedJob, arguments: Arguments, context: JobContext) async throws -> [String: JSONValue]

    /// What a scheduled job of this kind needs of its database role, per database it works on,
    /// so `config check --databases` finds a missing grant before the job fails at night.
    func roleChecks(target: String?, arguments: Arguments, configuration: Configuration) -> [RoleCheck]
}

extension JobKind {
    package var isShort: Bool { false }

    package func roleChecks(target: String?, arguments: Arguments, configuration: Configuration) -> [RoleCheck] { [] }
}

package enum TargetRule: Sendable, Equatable {
    case none
    case required(String)
    case optional(String)
}

package enum Placement: Sendable, Equatable {
    case shared
    case host
}

/// A failure that cannot succeed on retry (bad arguments, missing database): the job fails at once.
package struct PermanentJobError: Error, Sendable, CustomStringConvertible {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
