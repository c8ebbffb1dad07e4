import PostgresClient

extension TablePrivileges {
    /// Whether the role may run `operation` on `table` (or, without one, on every table of the
    /// database): the first refusal with its fix, and how many more tables are refused.
    package static func problem(_ operation: Operation, table: String?, on connection: PostgresConnection) async throws -> String? {
        let tables = if let table {
            [try await TableReference.resolve(table, on: connection)]
        } else {
            try await TableReference.all(on: connection)
        }
        var refusals: [String] = []
        for table in tables {
            if let refusal = try await TablePrivileges.of(table, on: connection).refusal(operation) { refusals.append(refusal) }
        }
        guard let first = refusals.first else { return nil }
        return first + (refusals.count > 1 ? " (and \(refusals.count - 1) more tables)" : "")
    }
}
