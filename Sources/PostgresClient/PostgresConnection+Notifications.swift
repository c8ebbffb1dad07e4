import CLibPQ
import Foundation

/// A message delivered by `NOTIFY` / `pg_notify`.
public struct PostgresNotification: Sendable, Equatable {
    public let channel: String
    public let payload: String
    /// Backend PID of the notifying session.
    public let senderPID: Int32
}

extension PostgresConnection {
    /// Subscribes this session to a channel. The name is quoted, never pasted.
    public func listen(_ channel: String) async throws {
        try await execute("LISTEN \(try SQLIdentifier.quoted(channel))")
    }

    /// Waits until at least one notification arrives, `timeout` passes, or `wakeUp()` is called.
    /// Returns the notifications received (possibly none). A broken connection throws.
    ///
    /// The wait blocks this connection's calls (and a thread of its lane), so use a connection
    /// dedicated to listening.
    public func waitForNotifications(timeout: Duration) async throws -> [PostgresNotification] {
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let wakeDescriptor = self.wakeDescriptor
        return try await perform { connection throws(PostgresError) in
            var received = try Self.drainNotifications(connection)
            if !received.isEmpty { return received }
            var descriptors = [
                pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&descriptors, 2, max(0, milliseconds))
            if ready < 0 && errno != EINTR {
                throw PostgresError(code: .connectionLost, message: "poll failed: \(String(cString: strerror(errno)))")
            }
            if descriptors[1].revents != 0 { self.drainWakeups() }
            received = try Self.drainNotifications(connection)
            return received
        }
    }

    /// Interrupts a `waitForNotifications` in progress (it returns early with what it has).
    public func wakeUp() {
        cancelWait()
    }

    private static func drainNotifications(_ connection: OpaquePointer) throws(PostgresError) -> [PostgresNotification] {
        guard PQconsumeInput(connection) == 1 else {
            throw connectionError(connection, fallback: "connection lost while listening")
        }
        var received: [PostgresNotification] = []
        while let notify = PQnotifies(connection) {
            received.append(PostgresNotification(
                channel: String(cString: notify.pointee.relname),
                payload: String(cString: notify.pointee.extra),
                senderPID: notify.pointee.be_pid
            ))
            PQfreemem(notify)
        }
        if PQstatus(connection) != CONNECTION_OK {
            throw connectionError(connection, fallback: "connection lost while listening")
        }
        return received
    }
}
