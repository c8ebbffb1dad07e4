import BlockingWork
import Database
import Logging
import PostgresClient
import Support
import Synchronization

/// One of the worker's own connections (control, reaper, scheduler, claims, outcomes), reopened
/// (with backoff) after it breaks.
final class ConnectionHolder: Sendable {
    private let current = Mutex<PostgresConnection?>(nil)
    let connector: DatabaseConnector
    let logger: Logger
    let purpose: String

    init(connector: DatabaseConnector, logger: Logger, purpose: String) {
        self.connector = connector
        self.logger = logger
        self.purpose = purpose
    }

    /// The open connection, connecting (and retrying until cancelled) when there is none. Every
    /// holder is one of the worker's own connections, so its calls run in the control lane.
    func get() async throws -> PostgresConnection {
        if let connection = current.withLock({ $0 }), !connection.isClosed { return connection }
        let connection = try await connector.connectRetrying(logger: logger, purpose: purpose, lane: .control)
        current.withLock { $0 = connection }
        return connection
    }

    /// Runs `body`; a connection-level failure drops the connection so the next call reconnects.
    @discardableResult
    func use<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await get()
        do {
            return try await body(connection)
        } catch let error as PostgresError where error.isConnectionProblem {
            invalidate(connection)
            throw error
        }
    }

    /// Runs `body` until it gets through: a connection lost on the way (a server restart while
    /// the worker starts) reconnects and runs it again after a backoff, until the task is
    /// cancelled. Only for statements that are safe to repeat.
    @discardableResult
    func useRetrying<T: Sendable>(_ what: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let backoff = Backoff.reconnect
        var attempt = 0
        while true {
            do {
                return try await use(body)
            } catch let error as PostgresError where error.isConnectionProblem {
                attempt += 1
                let delay = backoff.delay(attempt: attempt)
                logger.warning("\(what) lost its connection; retrying", metadata: [
                    "error": "\(error)", "retry.in_ms": "\(Int(delay.seconds * 1000))", "connection.purpose": "\(purpose)",
                ])
                try await Task.sleep(for: delay)
            }
        }
    }

    func invalidate(_ connection: PostgresConnection) {
        current.withLock { if $0 === connection { $0 = nil } }
        connection.close()
    }

    func close() {
        let connection = current.withLock { value -> PostgresConnection? in
            defer { value = nil }
            return value
        }
        connection?.close()
    }
}
