/// A request rejected before anything was stored. Its message says what is wrong and what is valid.
package struct JobValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
