import Foundation

/// What a person or a schedule asks for, before validation: text straight from the command line.
public struct JobRequest: Sendable, Equatable {
    public var kind: String
    public var target: String?
    public var arguments: [String: String]
    public var queue: String?
    public var priority: Int
    public var runAt: Date?
    public var uniqueKey: String?
    public var enqueuedBy: String

    public init(
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
    public static func parseArguments(_ pairs: [String]) throws(JobValidationError) -> [String: String] {
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
public struct PreparedJob: Sendable, Equatable {
    public var kind: String
    public var target: String?
    public var arguments: [String: JSONValue]
    public var queue: String
    public var priority: Int
    public var runAt: Date?
    public var maxAttempts: Int
    public var timeoutSeconds: Int
    public var concurrencyKey: String?
    public var uniqueKey: String?
    public var scheduleName: String?
    public var scheduledFor: Date?
    public var enqueuedBy: String
}
