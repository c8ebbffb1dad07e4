/// A configured application database that cannot be used as configured: not under
/// `databases:`, its `url_env` unset, or missing on the server. Retrying does not help until
/// someone changes the configuration or the server.
package struct TargetDatabaseError: Error, Sendable, CustomStringConvertible {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
