/// The rows of one statement, copied out of libpq's result so it can cross threads.
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [PostgresRow]
    /// Rows affected by INSERT/UPDATE/DELETE (`PQcmdTuples`), or the row count of a SELECT.
    public let affectedRows: Int

    public var first: PostgresRow? { rows.first }

    /// The one row of a statement that returns exactly one (an aggregate, a SELECT without
    /// FROM, an INSERT ... RETURNING of one row); any other count is an error, not a trap.
    public func single() throws(PostgresError) -> PostgresRow {
        guard rows.count == 1 else {
            throw PostgresError(code: .unexpectedRowCount, message: "expected one row, got \(rows.count)")
        }
        return rows[0]
    }
}

/// One result row; values are PostgreSQL's text representation, `nil` for SQL NULL.
public struct PostgresRow: Sendable {
    let columnIndex: [String: Int]
    public let values: [String?]

    public subscript(column: String) -> String? {
        guard let index = columnIndex[column] else { return nil }
        return values[index]
    }

    /// Decodes a non-NULL column; NULL or a missing column is an error.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard let index = columnIndex[column] else {
            throw PostgresError(code: .decoding, message: "result has no column \(column.debugDescription)")
        }
        guard let text = values[index] else {
            throw PostgresError(code: .decoding, message: "column \(column.debugDescription) is NULL")
        }
        return try T(postgresText: text)
    }

    /// Decodes a column that may be NULL.
    public func decodeIfPresent<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T? {
        guard let index = columnIndex[column] else {
            throw PostgresError(code: .decoding, message: "result has no column \(column.debugDescription)")
        }
        guard let text = values[index] else { return nil }
        return try T(postgresText: text)
    }
}
