import PostgresClient

extension PostgresConnection {
    /// Connects to a configured application database; one missing on the server is a
    /// `TargetDatabaseError` naming it (`dbname`, or the configuration's own), not a retry.
    package static func connect(target configuration: ConnectionConfiguration, dbname: String? = nil) async throws -> PostgresConnection {
        do {
            return try await connect(configuration)
        } catch let error as PostgresError where error.isInvalidCatalog {
            let name = dbname ?? configuration.redactedParameters["dbname"] ?? "?"
            throw TargetDatabaseError("database \(name.debugDescription) does not exist: \(error)")
        }
    }
}
