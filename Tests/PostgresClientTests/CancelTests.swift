import Foundation
import PostgresClient
import Testing
import TestSupport

/// `cancel()` sends libpq's cancel request from a thread of its own: the caller never waits for
/// the server, even one that has stopped answering.
@Suite("Cancelling a statement")
struct CancelTests {
    @Test func cancelReturnsAtOnceWhileTheServerDoesNotAnswer() async throws {
        try await withConnectionThroughProxy { observer, proxy, connection in
            let task = Task { try await connection.query("SELECT pg_sleep(30)") }
            try await waitUntilSleeping(connection.backendPID, observer: observer)

            proxy.goSilent()
            var started = ContinuousClock.now
            task.cancel()
            #expect(ContinuousClock.now - started < .milliseconds(100))
            started = .now
            connection.cancel()
            #expect(ContinuousClock.now - started < .milliseconds(100))

            // The request really is stuck: the proxy holds it and the statement runs on.
            try await waitUntil { proxy.heldCount == 1 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await waitEvent(of: connection.backendPID, observer: observer) == "PgSleep")

            // Once the server answers again, the request made while the first was stuck is sent.
            started = .now
            proxy.speakAgain()
            let error = await #expect(throws: PostgresError.self) { try await task.value }
            #expect(error?.isQueryCanceled == true)
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(proxy.acceptedCount == 3)  // the session, the stuck request, the one after it
        }
    }

    @Test func closingWhileACancelIsStuckReturnsAtOnceAndSendsNothingMore() async throws {
        try await withConnectionThroughProxy { observer, proxy, connection in

            proxy.goSilent()
            connection.cancel()
            connection.cancel()  // folded into one more request, due after the stuck one
            try await waitUntil { proxy.heldCount == 1 }
            let started = ContinuousClock.now
            connection.close()
            #expect(ContinuousClock.now - started < .milliseconds(100))
            #expect(connection.isClosed)
            connection.cancel()

            // The stuck request ends (its key stays valid until then); nothing follows it.
            proxy.speakAgain()
            try await Task.sleep(for: .milliseconds(500))
            #expect(proxy.acceptedCount == 2)  // the session and the stuck request
        }
    }

    @Test func cancelThroughTheProxyEndsALongStatement() async throws {
        try await withConnectionThroughProxy { observer, proxy, connection in
            let task = Task { try await connection.query("SELECT pg_sleep(30)") }
            try await waitUntilSleeping(connection.backendPID, observer: observer)
            let started = ContinuousClock.now
            connection.cancel()
            let error = await #expect(throws: PostgresError.self) { try await task.value }
            #expect(error?.isQueryCanceled == true)
            #expect(ContinuousClock.now - started < .seconds(5))
            let row = try await connection.query("SELECT 1 AS one").single()
            #expect(try row.decode("one", as: Int.self) == 1)
        }
    }

    /// A connection to a fresh test database through a `TCPProxy`, and an `observer` session
    /// connected directly, to watch the proxied session's backend from outside.
    private func withConnectionThroughProxy(
        _ body: (_ observer: PostgresConnection, _ proxy: TCPProxy, _ connection: PostgresConnection) async throws -> Void
    ) async throws {
        try await TestDatabase.with { database in
            let observer = try await database.connect()
            defer { observer.close() }
            let proxy = try await TCPProxy.to(serverOf: observer)
            defer { proxy.stop() }
            let connection = try await PostgresConnection.connect(proxy.route(database.configuration))
            defer { connection.close() }
            try await body(observer, proxy, connection)
        }
    }

    private func waitUntilSleeping(_ pid: Int32, observer: PostgresConnection) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await waitEvent(of: pid, observer: observer) != "PgSleep" {
            guard ContinuousClock.now < deadline else { throw TestEnvironmentError("pg_sleep never started") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func waitEvent(of pid: Int32, observer: PostgresConnection) async throws -> String? {
        try await observer.query("SELECT wait_event FROM pg_stat_activity WHERE pid = $1", [pid]).first?.decodeIfPresent("wait_event")
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TestEnvironmentError("condition not met within 10 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
