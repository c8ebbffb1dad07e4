@testable import Database
import Foundation
import Logging
@testable import OrchestratorCLI
import PostgresClient
@testable import Settings
import TestSupport
import Testing

/// `withConnection` holds a session for exactly the length of its body, however the body ends.
@Suite("Command connections")
struct WithConnectionTests {
    struct BodyFailed: Error {}

    @Test func theConnectionIsClosedWhenTheBodyThrowsOrReturns() async throws {
        try await TestDatabase.with { database in
            let environment = CommandEnvironment(
                configuration: Configuration(), configPath: nil,
                connector: DatabaseConnector(orchestrator: database.configuration),
                logger: Logger(label: "orchestrator.tests"), json: false
            )
            let admin = try await PostgresConnection.connect(try TestDatabase.serverConfiguration)
            defer { admin.close() }
            let sessions = Sessions(admin: admin, database: database.name)
            #expect(try await sessions.count() == 0)

            // The body keeps a reference, so only an explicit close (not deinit) ends the session.
            var kept: [PostgresConnection] = []
            await #expect(throws: BodyFailed.self) {
                try await environment.withConnection { connection in
                    kept.append(connection)
                    try await connection.execute("SELECT 1")
                    let open = try await sessions.count()
                    #expect(open == 1)
                    throw BodyFailed()
                }
            }
            #expect(try await sessions.becomeZero())

            let value = try await environment.withConnection { connection in
                kept.append(connection)
                try await connection.execute("SELECT 1")
                return try await sessions.count()
            }
            #expect(value == 1)  // the body ran with its session open
            #expect(try await sessions.becomeZero())
            #expect(kept.count == 2)
        }
    }

    /// Client sessions on one database, seen from an admin session on another.
    struct Sessions {
        let admin: PostgresConnection
        let database: String

        func count() async throws -> Int {
            let result = try await admin.query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'", [database]
            )
            return try #require(result.first).decode("n")
        }

        /// A closed session's backend exits just after the client hangs up, so wait a little.
        func becomeZero(within seconds: Double = 10) async throws -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if try await count() == 0 { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return try await count() == 0
        }
    }
}
