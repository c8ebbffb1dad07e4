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
    package let defaultMaxAttempts = 3
    package let defaultTimeoutSeconds = 3600
    package let placement = Placement.shared
    /// Queue tests and benchmarks use it as the archetypal short job.
    package let isShort = true

    package struct Arguments: JobArguments, Equatable {
        static let ms = JobArgument.integer("ms", 0...86_400_000, default: 0, "how long to sleep, in milliseconds")
        static let fail = JobArgument.boolean("fail", default: false, "fail every attempt (retryable)")
        static let failAttempts = JobArgument.integer("fail_attempts", 0...100, default: 0, "fail the first N attempts, then succeed")
        static let permanent = JobArgument.boolean("permanent", default: false, "make the failure permanent (no retry)")
        package static let specs = [ms.spec, fail.spec, failAttempts.spec, permanent.spec]

        package var ms: Int64
        package var fail: Bool
        package var failAttempts: Int64
        package var permanent: Bool
    }

    package func validate(target: String?, arguments: Arguments, configuration: Configuration) throws(JobValidationError) -> String? {
        nil
    }

    package func run(_ job: ClaimedJob, arguments: Arguments, context: JobContext) async throws -> [String: JSONValue] {
        context.logger.info("noop sleeping", metadata: ["noop.ms": "\(arguments.ms)"])
        if arguments.ms > 0 { try await Task.sleep(for: .milliseconds(arguments.ms)) }
        if arguments.fail || Int64(job.attempt) <= arguments.failAttempts {
            let message = "noop told to fail (attempt \(job.attempt))"
            if arguments.permanent { throw PermanentJobError(message) }
            throw NoopFailure(description: message)
        }
        return ["slept_ms": .int(arguments.ms)]
    }
}

extension NoopJob.Arguments {
    package init(_ values: ArgumentValues) throws(JobValidationError) {
        ms = try values[Self.ms]
        fail = try values[Self.fail]
        failAttempts = try values[Self.failAttempts]
        permanent = try values[Self.permanent]
    }
}

struct NoopFailure: Error, CustomStringConvertible {
    let description: String
}
