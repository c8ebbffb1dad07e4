import Foundation
import PostgresClient
import Testing
import TestSupport

/// What a client sees of a server it cannot reach, through `TCPProxy.goUnreachable()`: no
/// answer and no error, for as long as the outage lasts. A refused connection is another case:
/// it fails at once.
@Suite("An unreachable server")
struct UnreachableServerTests {
    @Test func aClosedPortRefusesAtOnce() async throws {
        let port = try LocalSocketServer.closedPort()
        let started = ContinuousClock.now
        let error = await #expect(throws: PostgresError.self) {
            try await PostgresConnection.connect(ConnectionConfiguration(connectionString: "host=127.0.0.1 port=\(port) dbname=postgres"))
        }
        #expect(error?.code == .connectionFailed)
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func statementsAndConnectionsGetNoAnswerUntilTheServerIsBackAndTheSessionIsGone() async throws {
        try await TestDatabase.with { database in
            let direct = try await database.connect()
            defer { direct.close() }
            let proxy = try await TCPProxy.to(serverOf: direct, holdLimit: .seconds(60))
            defer { proxy.stop() }
            let connection = try await PostgresConnection.connect(proxy.route(database.configuration))
            defer { connection.close() }

            proxy.goUnreachable()
            let answers = Locked(0)
            let statement = Task {
                defer { answers.withLock { $0 += 1 } }
                return try await connection.query("SELECT 1 AS one")
            }
            let connecting = Task {
                defer { answers.withLock { $0 += 1 } }
                return try await PostgresConnection.connect(proxy.route(database.configuration))
            }
            try await waitUntil { proxy.swallowedCount > 0 && proxy.heldCount == 1 }
            try await Task.sleep(for: .seconds(1))
            #expect(answers.withLock { $0 } == 0)

            // The outage ends: the session that lost its statement is cut, the held connection closed.
            proxy.speakAgain()
            let lost = await #expect(throws: PostgresError.self) { try await statement.value }
            #expect(lost?.isConnectionProblem == true)
            let failed = await #expect(throws: PostgresError.self) { try await connecting.value }
            #expect(failed?.code == .connectionFailed)
            let again = try await PostgresConnection.connect(proxy.route(database.configuration))
            defer { again.close() }
            let row = try await again.query("SELECT 1 AS one").single()
            #expect(try row.decode("one", as: Int.self) == 1)
        }
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TestEnvironmentError("condition not met within 10 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
