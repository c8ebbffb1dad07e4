import CLibPQ
import Foundation

extension PostgresConnection {
    /// Runs one statement with `$1, $2, ...` parameters sent separately from the SQL text
    /// (`PQexecParams`), so values are never parsed as SQL.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> QueryResult {
        let texts: [String?] = parameters.map { $0?.postgresText }
        return try await perform { connection throws(PostgresError) in
            try Self.execParams(connection, sql: sql, parameters: texts)
        }
    }

    /// Runs a script of one or more statements with no parameters (simple query protocol).
    /// Only for trusted text such as migration files; never for values from users.
    public func execute(_ script: String) async throws {
        try await perform { connection throws(PostgresError) in
            let result = PQexec(connection, script)
            _ = try Self.consume(result, connection: connection)
        }
    }

    /// Runs `body` inside BEGIN/COMMIT; any error rolls back and is rethrown.
    public func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await execute("BEGIN")
        do {
            let value = try await body(self)
            try await execute("COMMIT")
            return value
        } catch {
            // The session may already be gone; the server rolls back on disconnect anyway.
            try? await execute("ROLLBACK")
            throw error
        }
    }

    static func execParams(_ connection: OpaquePointer, sql: String, parameters: [String?]) throws(PostgresError) -> QueryResult {
        let cValues: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.flatMap { strdup($0) } }
        defer { cValues.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = cValues.map { $0.map { UnsafePointer($0) } }
        let result = pointers.withUnsafeBufferPointer { buffer in
            PQexecParams(connection, sql, Int32(parameters.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        return try consume(result, connection: connection)
    }

    /// Copies a libpq result into Swift values and frees it; turns failures into `PostgresError`.
    static func consume(_ result: OpaquePointer?, connection: OpaquePointer) throws(PostgresError) -> QueryResult {
        guard let result else {
            throw connectionError(connection, fallback: "no result from server")
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            break
        default:
            throw serverError(result, connection: connection)
        }
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var columns: [String] = []
        var index: [String: Int] = [:]
        for column in 0..<columnCount {
            let name = String(cString: PQfname(result, Int32(column)))
            columns.append(name)
            if index[name] == nil { index[name] = column }
        }
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            rows.append(PostgresRow(columnIndex: index, values: values))
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? rowCount
        return QueryResult(columns: columns, rows: rows, affectedRows: affected)
    }

    static func serverError(_ result: OpaquePointer, connection: OpaquePointer) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            guard let value = PQresultErrorField(result, Int32(code)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field(UInt8(ascii: "C"))
        let primary = field(UInt8(ascii: "M")) ?? String(cString: PQresultErrorMessage(result))
        let lost = PQstatus(connection) != CONNECTION_OK
        return PostgresError(
            code: lost ? .connectionLost : .server,
            sqlState: sqlState,
            message: primary.isEmpty ? "statement failed" : primary,
            detail: field(UInt8(ascii: "D")),
            hint: field(UInt8(ascii: "H"))
        )
    }

    static func connectionError(_ connection: OpaquePointer, fallback: String) -> PostgresError {
        let message = String(cString: PQerrorMessage(connection))
        let lost = PQstatus(connection) != CONNECTION_OK
        return PostgresError(code: lost ? .connectionLost : .protocolViolation, message: message.isEmpty ? fallback : message)
    }
}
