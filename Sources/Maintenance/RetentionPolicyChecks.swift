import Database
import Foundation
import PostgresClient
import Settings

/// Every retention policy checked against its database: table, column, key and grants, so a
/// broken policy is reported by `config check --databases`, not at 2 AM.
package enum RetentionPolicyChecks {
    package static func run(configuration: Configuration, connector: DatabaseConnector) async -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        for (name, policy) in configuration.retention.sorted(by: { $0.key < $1.key }) {
            let path = "retention.\(name)"
            guard let target = configuration.databases[policy.database] else { continue }  // reported by validate()
            do {
                let connection = try await PostgresConnection.connect(try connector.configuration(for: target))
                defer { connection.close() }
                _ = try await BatchedDeleter(policy: policy, logger: .init(label: "orchestrator.config-check")).resolve(on: connection)
            } catch let error as MaintenanceError {
                problems.append(ConfigurationError(path: path, error.message))
            } catch let error as TargetDatabaseError {
                problems.append(ConfigurationError(path: path, error.message))
            } catch {
                problems.append(ConfigurationError(path: path, "cannot check against database \(target.dbname): \(error)"))
            }
        }
        return problems
    }
}
