import Database
import Maintenance
import Runtime
import Settings

/// `config check --databases`: the checks that need the databases themselves. Every retention
/// policy against its table, and what each scheduled job needs of its role, so a broken policy
/// or a missing grant is reported when the configuration is written, not at 2 AM.
package enum DatabaseChecks {
    package static func run(configuration: Configuration, connector: DatabaseConnector) async -> [ConfigurationError] {
        let policies = await RetentionPolicyChecks.run(configuration: configuration, connector: connector)
        return policies + (await JobKindRegistry.standard.roleProblems(configuration: configuration, connector: connector))
    }
}
