import Foundation
import PostgresClient

/// A login role of its own for one test (roles are server-wide): created without any
/// privilege, dropped with everything it owns or was granted in the test's database.
public struct TestRole: Sendable {
    public let name: String
    public let database: TestDatabase

    public static func with<T: Sendable>(in database: TestDatabase, _ body: (TestRole) async throws -> T) async throws -> T {
        let name = "orch_role_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let admin = try await database.connect()
        defer { admin.close() }
        try await admin.execute("CREATE ROLE \(name) LOGIN")
        let role = TestRole(name: name, database: database)
        do {
            let value = try await body(role)
            try await role.drop(on: admin)
            return value
        } catch {
            try? await role.drop(on: admin)
            throw error
        }
    }

    /// The test database's connection settings, logging in as this role.
    public var configuration: ConnectionConfiguration {
        var configuration = database.configuration
        configuration.overrides.removeAll { $0.keyword == "user" }
        configuration.overrides.append((keyword: "user", value: name))
        return configuration
    }

    public func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(configuration)
    }

    private func drop(on admin: PostgresConnection) async throws {
        try await admin.execute("DROP OWNED BY \(name); DROP ROLE \(name)")
    }
}
