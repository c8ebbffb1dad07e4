/// A job that did part of its work and failed: the run keeps the result of what was done (say,
/// the policies a retention run finished) next to the error naming what failed.
public struct JobFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let result: [String: JSONValue]
    /// True when retrying cannot help (every failed part failed permanently).
    public let permanent: Bool

    public init(_ message: String, result: [String: JSONValue], permanent: Bool) {
        self.message = message
        self.result = result
        self.permanent = permanent
    }

    public var description: String { message }
}
