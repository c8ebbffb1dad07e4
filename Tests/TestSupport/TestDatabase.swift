import Foundation
import PostgresClient

/// A database of its own for one test, on the server named by `ORCHESTRATOR_TEST_DATABASE_URL`
/// (scripts/test starts a throwaway cluster and sets it).
public struct TestDatabase: Sendable {
    public let name: String
    public let configuration: ConnectionConfiguration

    /// A database someone else made (e.g. on a test's private cluster).
    public init(name: String, configuration: ConnectionConfiguration) {
        self.name = name
        self.configuration = configuration
    }

    /// The server's admin URL; tests fail loudly when it is missing rather than pass silently.
    public static var serverConfiguration: ConnectionConfiguration {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_DATABASE_URL"], !url.isEmpty else {
                throw TestEnvironmentError("ORCHESTRATOR_TEST_DATABASE_URL is not set; run the tests with scripts/test")
            }
            return ConnectionConfiguration(connectionString: url, applicationName: "orchestrator-tests")
        }
    }

    /// Creates a fresh database, runs `body`, and drops the database afterwards (even on failure).
    public static func with<T: Sendable>(_ body: (TestDatabase) async throws -> T) async throws -> T {
        let server = try serverConfiguration
        let name = "orch_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let admin = try await PostgresConnection.connect(server)
        defer { admin.close() }
        try await admin.execute("CREATE DATABASE \(try SQLIdentifier.quoted(name))")
        let database = TestDatabase(name: name, configuration: server.withDatabase(name))
        do {
            let value = try await body(database)
            try await drop(name, server: server)
            return value
        } catch {
            try? await drop(name, server: server)
            throw error
        }
    }

    public func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(configuration)
    }

    /// The database as a URL usable by a child process (`orchestrator` under test).
    public var url: String {
        get throws {
            let base = try Self.serverConfiguration.connectionString
            guard var components = URLComponents(string: base) else { return base }
            components.path = "/" + name
            return components.string ?? base
        }
    }

    /// A fresh admin session: the one that created the database may not have survived the test
    /// (some tests restart the server).
    private static func drop(_ name: String, server: ConnectionConfiguration) async throws {
        let admin = try await PostgresConnection.connect(server)
        defer { admin.close() }
        try await admin.execute("DROP DATABASE IF EXISTS \(try SQLIdentifier.quoted(name)) WITH (FORCE)")
    }
}

public struct TestEnvironmentError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
