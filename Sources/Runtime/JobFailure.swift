import Support

/// A job that did part of its work and failed: the run keeps the result of what was done (say,
/// the policies a retention run finished) next to the error naming what failed.
package struct JobFailure: Error, Sendable, CustomStringConvertible {
    package let message: String
    package let result: [String: JSONValue]
    /// True when retrying cannot help (every failed part failed permanently).
    package let permanent: Bool

    package init(_ message: String, result: [String: JSONValue], permanent: Bool) {
        self.message = message
        self.result = result
        self.permanent = permanent
    }

    package var description: String { message }
}
