/// SQL that a connection parses and plans once, then runs by name (`PQprepare` +
/// `PQexecPrepared`). For the statements a worker runs thousands of times a minute (claim,
/// finish, heartbeat), planning otherwise costs more than executing.
///
/// Each connection prepares a statement the first time it runs it; a new connection (after a
/// reconnect) starts with none, so nothing needs invalidating.
public struct PreparedStatement: Sendable, Hashable {
    public let sql: String

    public init(_ sql: String) {
        self.sql = sql
    }
}
