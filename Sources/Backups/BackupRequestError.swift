/// A backup request this host or this backup cannot satisfy: an unknown profile, a manifest
/// that is missing or differs from the catalog, a database or file set the backup does not
/// hold, a restore target that exists, a PostgreSQL client tool that is not installed.
/// Retrying does not help until someone changes the request or the host.
package struct BackupRequestError: Error, Sendable, CustomStringConvertible {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
