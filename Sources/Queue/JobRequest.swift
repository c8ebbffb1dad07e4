import Foundation
import Support

/// What a person or a schedule asks for, before validation: text straight from the command line.
package struct JobRequest: Sendable, Equatable {
    package var kind: String
    package var target: String?
    package var arguments: [String: String]
    package var queue: String?
    package var priority: Int
    package var runAt: Date?
    package var uniqueKey: String?
    package var enqueuedBy: String

    package init(
        kind: String, target: String? = nil, arguments: [String: String] = [:], queue: String? = nil,
        priority: Int = 0, runAt: Date? = nil, uniqueKey: String? = nil, enqueuedBy: String
    ) {
        self.kind = kind
        self.target = target
        self.arguments = arguments
        self.queue = queue
        self.priority = priority
        self.runAt = runAt
        self.uniqueKey = uniqueKey
        self.enqueuedBy = enqueuedBy
    }

    /// Parses `key=value` pairs from `--arg`; a missing `=` or empty key is an error.
    package static func parseArguments(_ pairs: [String]) throws(JobValidationError) -> [String: String] {
        var result: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw JobValidationError("--arg \(pair.debugDescription): expected key=value")
            }
            let key = String(pair[..<equals])
            guard result[key] == nil else { throw JobValidationError("--arg \(key) given twice") }
            result[key] = String(pair[pair.index(after: equals)...])
        }
        return result
    }
}

/// A validated job, ready to insert.
package struct PreparedJob: Sendable, Equatable {
    package var kind: String
    package var target: String?
    package var arguments: [String: JSONValue]
    package var queue: String
    package var priority: Int
    package var runAt: Date?
    package var maxAttempts: Int
    package var timeoutSeconds: Int
    package var concurrencyKey: String?
    package var uniqueKey: String?
    package var scheduleName: String?
    package var scheduledFor: Date?
    package var enqueuedBy: String

    package init(
        kind: String, target: String?, arguments: [String: JSONValue], queue: String, priority: Int, runAt: Date?,
        maxAttempts: Int, timeoutSeconds: Int, concurrencyKey: String?, uniqueKey: String?, scheduleName: String?,
        scheduledFor: Date?, enqueuedBy: String
    ) {
        self.kind = kind
        self.target = target
        self.arguments = arguments
        self.queue = queue
        self.priority = priority
        self.runAt = runAt
        self.maxAttempts = maxAttempts
        self.timeoutSeconds = timeoutSeconds
        self.concurrencyKey = concurrencyKey
        self.uniqueKey = uniqueKey
        self.scheduleName = scheduleName
        self.scheduledFor = scheduledFor
        self.enqueuedBy = enqueuedBy
    }
}
