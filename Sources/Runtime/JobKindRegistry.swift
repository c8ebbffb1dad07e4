import Foundation
import Queue
import Settings
import Support

/// The kinds this build knows, and the validation every enqueue goes through.
package struct JobKindRegistry: JobPreparer {
    package let kinds: [any JobKind]
    /// Whether retrying cannot fix an error; the kinds' layer knows the domain errors.
    package let isPermanent: @Sendable (any Error) -> Bool

    package init(kinds: [any JobKind], isPermanent: @escaping @Sendable (any Error) -> Bool) {
        self.kinds = kinds.sorted { $0.name < $1.name }
        self.isPermanent = isPermanent
    }

    package var names: [String] { kinds.map(\.name) }

    package func kind(named name: String) -> (any JobKind)? {
        kinds.first { $0.name == name }
    }

    /// Validates a request against its kind and the configuration, and fills in queue,
    /// attempts, timeout and concurrency key. Throws with the valid choices on any mistake.
    package func prepare(_ request: JobRequest, configuration: Configuration, hostName: String) throws(JobValidationError) -> PreparedJob {
        guard let kind = kind(named: request.kind) else {
            throw JobValidationError("unknown job kind \(request.kind.debugDescription); valid kinds: \(names.joined(separator: ", "))")
        }
        switch (kind.target, request.target) {
        case (.none, .some(let target)):
            throw JobValidationError("\(kind.name) takes no target, got \(target.debugDescription)")
        case (.required(let what), .none):
            throw JobValidationError("\(kind.name) needs a target: \(what)")
        default:
            break
        }
        if let target = request.target {
            guard !target.isEmpty, target.utf8.count <= 200 else { throw JobValidationError("target must be 1 to 200 printable characters") }
            if let problem = PrintableText.problem(in: target) { throw JobValidationError("target \(problem)") }
        }
        let (arguments, concurrencyKey) = try kind.prepareArguments(request.arguments, target: request.target, configuration: configuration)

        let queue: String
        switch (kind.placement, request.queue) {
        case (_, .some(let named)): queue = named
        case (.shared, .none): queue = "default"
        case (.host, .none): queue = "host:\(hostName)"
        }
        guard QueueName.isValid(queue) else {
            throw JobValidationError("queue \(queue.debugDescription) is not a valid name (letters, digits, and _ . : - ; at most 128)")
        }
        if let uniqueKey = request.uniqueKey {
            guard !uniqueKey.isEmpty, uniqueKey.utf8.count <= 200 else { throw JobValidationError("unique key must be 1 to 200 characters") }
            if let problem = PrintableText.problem(in: uniqueKey) { throw JobValidationError("unique key \(problem)") }
        }
        guard (-1000...1000).contains(request.priority) else {
            throw JobValidationError("priority \(request.priority) is out of range -1000...1000 (higher runs first)")
        }
        let overrides = configuration.kinds[kind.name]
        return PreparedJob(
            kind: kind.name,
            target: request.target,
            arguments: arguments,
            queue: queue,
            priority: request.priority,
            runAt: request.runAt,
            maxAttempts: overrides?.maxAttempts ?? kind.defaultMaxAttempts,
            timeoutSeconds: overrides?.timeoutSeconds ?? kind.defaultTimeoutSeconds,
            concurrencyKey: concurrencyKey,
            uniqueKey: request.uniqueKey,
            scheduleName: nil,
            scheduledFor: nil,
            enqueuedBy: request.enqueuedBy
        )
    }
}
