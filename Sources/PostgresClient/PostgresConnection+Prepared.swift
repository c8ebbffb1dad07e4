import CLibPQ
import Foundation

extension PostgresConnection {
    /// Runs a prepared statement with `$1, $2, ...` parameters, preparing it on this connection
    /// the first time.
    @discardableResult
    public func query(_ statement: PreparedStatement, _ parameters: [(any PostgresEncodable)?] = []) async throws -> QueryResult {
        let texts: [String?] = parameters.map { $0?.postgresText }
        return try await perform { connection throws(PostgresError) in
            let name = try self.preparedName(for: statement.sql, parameterCount: texts.count, on: connection)
            return try Self.execPrepared(connection, name: name, parameters: texts)
        }
    }

    /// The server-side name of `sql` on this connection, preparing it when new. Runs in the
    /// connection's serial queue of calls, so two callers never prepare the same text twice.
    private func preparedName(for sql: String, parameterCount: Int, on connection: OpaquePointer) throws(PostgresError) -> String {
        if let name = preparedStatements.withLock({ $0[sql] }) { return name }
        let name = "orchestrator_\(preparedStatements.withLock { $0.count } + 1)"
        let result = PQprepare(connection, name, sql, Int32(parameterCount), nil)
        _ = try Self.consume(result, connection: connection)
        preparedStatements.withLock { $0[sql] = name }
        return name
    }

    static func execPrepared(_ connection: OpaquePointer, name: String, parameters: [String?]) throws(PostgresError) -> QueryResult {
        let cValues: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.flatMap { strdup($0) } }
        defer { cValues.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = cValues.map { $0.map { UnsafePointer($0) } }
        let result = pointers.withUnsafeBufferPointer { buffer in
            PQexecPrepared(connection, name, Int32(parameters.count), buffer.baseAddress, nil, nil, 0)
        }
        return try consume(result, connection: connection)
    }
}
