import Database
import PostgresClient
import Synchronization

/// The serve process's sessions with the orchestrator's database: opened on first use, at most
/// `maximumConnections` of them, kept while idle (an idle dashboard holds one idle backend), and
/// dropped when one breaks, so a request after a server restart reconnects. Requests beyond the
/// limit wait for a session in arrival order. `PostgresConnection` runs its calls one at a time,
/// so each request has its session to itself while it reads.
package final class DashboardDatabase: Sendable {
    /// Pages read in parallel up to this many at once; more would only queue inside the server
    /// of a small host.
    package static let defaultMaximumConnections = 4

    private struct State {
        var idle: [PostgresConnection] = []
        var open = 0
        var waiters: [CheckedContinuation<PostgresConnection?, Never>] = []
        var closed = false
    }

    private let state = Mutex(State())
    private let connector: DatabaseConnector
    private let maximumConnections: Int

    package init(connector: DatabaseConnector, maximumConnections: Int = defaultMaximumConnections) {
        self.connector = connector
        self.maximumConnections = max(1, maximumConnections)
    }

    package func use<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await acquire()
        do {
            let result = try await body(connection)
            release(connection, broken: false)
            return result
        } catch let error as PostgresError where error.isConnectionProblem {
            release(connection, broken: true)
            throw error
        } catch {
            release(connection, broken: connection.isClosed)
            throw error
        }
    }

    /// Runs `body` in a transaction on a session of the pool, which the request has to itself
    /// until the transaction ends (a failed one is rolled back before the session is reused).
    package func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await use { connection in try await connection.transaction(body) }
    }

    package func close() {
        let (idle, waiters) = state.withLock { state -> ([PostgresConnection], [CheckedContinuation<PostgresConnection?, Never>]) in
            state.closed = true
            defer { state.idle = []; state.waiters = [] }
            return (state.idle, state.waiters)
        }
        idle.forEach { $0.close() }
        waiters.forEach { $0.resume(returning: nil) }
    }

    private enum Next { case use(PostgresConnection), open, wait }

    private func acquire() async throws -> PostgresConnection {
        while true {
            let next = state.withLock { state -> Next in
                while let connection = state.idle.popLast() {
                    if !connection.isClosed { return .use(connection) }
                    state.open -= 1
                }
                if state.open < maximumConnections && !state.closed {
                    state.open += 1
                    return .open
                }
                return .wait
            }
            switch next {
            case .use(let connection):
                return connection
            case .open:
                do {
                    return try await connect()
                } catch {
                    // The slot is free again; a waiter may try it.
                    handOver(nil)
                    throw error
                }
            case .wait:
                let handed = await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.closed { return true }
                        state.waiters.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume(returning: nil) }
                }
                if let handed { return handed }
                if state.withLock({ $0.closed }) { throw PostgresError(code: .connectionClosed, message: "the dashboard is shutting down") }
            }
        }
    }

    /// Back to the idle list, or straight to the oldest waiter; a broken session frees its slot.
    private func release(_ connection: PostgresConnection, broken: Bool) {
        if broken {
            connection.close()
            handOver(nil)
        } else {
            handOver(connection)
        }
    }

    /// Gives `connection` (or, for nil, the slot of a session that went away) to the oldest
    /// waiter, which opens a session of its own in a freed slot.
    private func handOver(_ connection: PostgresConnection?) {
        let waiter = state.withLock { state -> CheckedContinuation<PostgresConnection?, Never>? in
            if connection == nil { state.open -= 1 }
            guard !state.waiters.isEmpty else {
                if let connection {
                    if state.closed { state.open -= 1 } else { state.idle.append(connection) }
                }
                return nil
            }
            return state.waiters.removeFirst()
        }
        if let waiter {
            waiter.resume(returning: connection)
        } else if let connection, state.withLock({ $0.closed }) {
            connection.close()
        }
    }

    private func connect() async throws -> PostgresConnection {
        let connection = try await connector.connect()
        do {
            // A page is a handful of small queries; one stuck behind a lock must not hold a request forever.
            try await connection.execute("SET statement_timeout = '10s'; SET application_name = 'orchestrator serve'")
        } catch {
            connection.close()
            throw error
        }
        return connection
    }
}
