import Database
import PostgresClient
import Synchronization

/// The serve process's one session with the orchestrator's database, opened on first use and
/// dropped when it breaks, so an idle dashboard holds a single idle backend and a request after
/// a server restart reconnects. `PostgresConnection` runs its calls one at a time, so requests
/// that arrive together share it safely.
package final class DashboardDatabase: Sendable {
    private let current = Mutex<PostgresConnection?>(nil)
    private let connector: DatabaseConnector

    package init(connector: DatabaseConnector) {
        self.connector = connector
    }

    package func use<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await open()
        do {
            return try await body(connection)
        } catch let error as PostgresError where error.isConnectionProblem {
            current.withLock { if $0 === connection { $0 = nil } }
            connection.close()
            throw error
        }
    }

    /// Runs `body` in a transaction on a connection of its own, closed afterwards: the shared
    /// session interleaves concurrent requests' statements, which a BEGIN ... COMMIT must not
    /// see. Actions are rare; a connection each costs nothing that matters.
    package func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await connector.connect()
        defer { connection.close() }
        try await connection.execute("SET statement_timeout = '10s'; SET application_name = 'orchestrator serve'")
        return try await connection.transaction(body)
    }

    package func close() {
        current.withLock { $0 }?.close()
    }

    private func open() async throws -> PostgresConnection {
        if let connection = current.withLock({ $0 }), !connection.isClosed { return connection }
        let connection = try await connector.connect()
        // A page is a handful of small queries; one stuck behind a lock must not hold a request forever.
        try await connection.execute("SET statement_timeout = '10s'; SET application_name = 'orchestrator serve'")
        let kept = current.withLock { stored -> PostgresConnection in
            if let stored, !stored.isClosed { return stored }
            stored = connection
            return connection
        }
        if kept !== connection { connection.close() }
        return kept
    }
}
