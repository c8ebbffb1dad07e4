import ArgumentParser
import Database
import Foundation
import Kinds
import Logging
import PostgresClient
import Queue
import Runtime
import Settings

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: /etc/orchestrator/orchestrator.yaml, then config/orchestrator.yaml).")
    var config: String?

    @Flag(name: .long, help: "Print machine-readable JSON instead of tables.")
    var json = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    /// Loads the configuration and sets up logging to stderr. Errors become documented exit codes.
    func environment(defaultLogLevel: Logger.Level? = nil) throws -> CommandEnvironment {
        LoggingBootstrap.once(level: logLevel)
        var logger = Logger(label: "orchestrator")
        logger.logLevel = logLevel
        let loaded = try reportingErrors { try Configuration.load(path: config) }
        let connector = try reportingErrors { try DatabaseConnector(settings: loaded.configuration.database) }
        return CommandEnvironment(configuration: loaded.configuration, configPath: loaded.path, connector: connector, logger: logger, json: json)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false  // set once from the main task before any concurrency
    static func once(level: Logger.Level) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
}

/// Maps library errors to a clear message on stderr and a documented exit code.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw mapError(error)
    }
}

func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw mapError(error)
    }
}

private func mapError(_ error: any Error) -> any Error {
    switch error {
    case let exit as ExitCode:
        return exit
    case let error as ConfigurationErrors:
        FileHandle.standardError.write(Data(("error: \(error)\n").utf8))
        return ExitCodes.configuration
    case let error as ConfigurationError:
        printError("configuration: \(error)")
        return ExitCodes.configuration
    case let error as JobValidationError:
        printError(error.message)
        return ExitCodes.usage
    case let error as MigrationError:
        printError(error.description)
        return ExitCodes.migrationRefused
    case let error as PostgresError where error.isConnectionProblem:
        printError("database: \(error)")
        return ExitCodes.databaseUnavailable
    case let error as PostgresError where error.sqlState == "42P01" || error.sqlState == "3F000":
        printError("database: \(error)")
        printError("the orchestrator schema is missing; run `orchestrator migrate` first")
        return ExitCodes.failure
    default:
        printError("\(error)")
        return ExitCodes.failure
    }
}
