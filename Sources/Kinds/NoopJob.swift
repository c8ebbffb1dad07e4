import Queue
import Runtime
import Settings
import Support

/// Sleeps and optionally fails: lets the queue, the worker and the benchmarks be exercised
/// without touching anything.
package struct NoopJob: JobKind {
    package init() {}
    package let name = "noop"
    package let summary = "sleep for ms milliseconds; optionally fail (for testing the queue)"
    package let target = TargetRule.optional("any label")
    package let arguments = [
        ArgumentSpec("ms", .integer(0...86_400_000), "how long to sleep (default 0)"),
        ArgumentSpec("fail", .boolean, "fail every attempt (retryable)"),
        ArgumentSpec("fail_attempts", .integer(0...100), "fail the first N attempts, then succeed"),
        ArgumentSpec("permanent", .boolean, "make the failure permanent (no retry)"),
    ]
    package let defaultMaxAttempts = 3
    package let defaultTimeoutSeconds = 3600
    package let placement = Placement.shared
    /// Queue tests and benchmarks use it as the archetypal short job.
    package let isShort = true

    package func validate(target: String?, arguments: [String: JSONValue], configuration: Configuration) throws(JobValidationError) -> String? {
        nil
    }

    package func run(_ job: ClaimedJob, context: JobContext) async throws -> [String: JSONValue] {
        let milliseconds = job.arguments["ms"]?.intValue ?? 0
        context.logger.info("noop sleeping", metadata: ["noop.ms": "\(milliseconds)"])
        if milliseconds > 0 { try await Task.sleep(for: .milliseconds(milliseconds)) }
        let failAll = job.arguments["fail"]?.boolValue ?? false
        let failFirst = job.arguments["fail_attempts"]?.intValue ?? 0
        if failAll || Int64(job.attempt) <= failFirst {
            let message = "noop told to fail (attempt \(job.attempt))"
            if job.arguments["permanent"]?.boolValue ?? false { throw PermanentJobError(message) }
            throw NoopFailure(description: message)
        }
        return ["slept_ms": .int(milliseconds)]
    }
}

struct NoopFailure: Error, CustomStringConvertible {
    let description: String
}
