/// A table or policy that cannot be maintained as asked: the table or column is missing, the
/// column is not a timestamp, no key or index can walk it, or the role lacks a grant. The
/// message names the fix; retrying does not help until someone applies it.
package struct MaintenanceError: Error, Sendable, CustomStringConvertible {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
