import BlockingWork
import Foundation
import Logging
import PostgresClient
import Settings
import Support

/// Opens connections to the orchestrator's database and to configured application databases,
/// reconnecting with capped exponential backoff when the server is away.
package struct DatabaseConnector: Sendable {
    package let orchestrator: ConnectionConfiguration
    let environment: [String: String]

    package init(orchestrator: ConnectionConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.orchestrator = orchestrator
        self.environment = environment
    }

    /// Resolves `database:` settings: the URL file if named, else the environment variable,
    /// else libpq's own defaults (`PG*` variables, `~/.pgpass`).
    package init(settings: DatabaseSettings, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        var connectionString = ""
        if let file = settings.urlFile {
            do {
                connectionString = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw ConfigurationError(path: "database.url_file", "cannot read \(file): \(error.localizedDescription)")
            }
        } else if let value = environment[settings.urlEnv] {
            connectionString = value
        }
        self.init(orchestrator: ConnectionConfiguration(connectionString: connectionString), environment: environment)
    }

    /// Opens a connection to the orchestrator's database; its libpq calls run in `lane`
    /// (`.control` only for a worker's own connections, see `BlockingExecutor`).
    package func connect(lane: BlockingExecutor.Lane = .jobs) async throws -> PostgresConnection {
        var configuration = orchestrator
        configuration.lane = lane
        return try await PostgresConnection.connect(configuration)
    }

    package func configuration(for target: TargetDatabase) throws -> ConnectionConfiguration {
        if let variable = target.urlEnv {
            guard let url = environment[variable], !url.isEmpty else {
                throw TargetDatabaseError("environment variable \(variable) (url_env of database \(target.dbname)) is not set")
            }
            return ConnectionConfiguration(connectionString: url, executor: orchestrator.executor).withDatabase(target.dbname)
        }
        return orchestrator.withDatabase(target.dbname)
    }

    /// Connects, retrying connection failures with backoff until it succeeds or the task is
    /// cancelled. Errors that are not about reachability (bad password, missing database) are
    /// retried too, but logged at error level so a misconfiguration is visible, never a crash loop.
    package func connectRetrying(logger: Logger, purpose: String, lane: BlockingExecutor.Lane = .jobs) async throws -> PostgresConnection {
        let backoff = Backoff.reconnect
        var attempt = 0
        while true {
            try Task.checkCancellation()
            do {
                return try await connect(lane: lane)
            } catch let error as PostgresError {
                attempt += 1
                let delay = backoff.delay(attempt: attempt)
                logger.log(
                    level: attempt == 1 ? .warning : (attempt % 10 == 0 ? .error : .debug),
                    "cannot connect to PostgreSQL; retrying",
                    metadata: ["db.server": "\(orchestrator)", "error": "\(error)", "retry.in_ms": "\(Int(delay.seconds * 1000))", "connection.purpose": "\(purpose)"]
                )
                try await Task.sleep(for: delay)
            }
        }
    }
}
