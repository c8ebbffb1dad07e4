import PostgresClient

/// A table named on the command line or in the configuration, resolved against the catalog so
/// it is only ever used quoted: `trades; DROP TABLE x` is "no such table", never SQL.
package struct TableReference: Sendable, Hashable {
    package let schema: String
    package let name: String

    package init(schema: String, name: String) {
        self.schema = schema
        self.name = name
    }

    /// `"schema"."name"`.
    package var quoted: String {
        get throws { "\(try SQLIdentifier.quoted(schema)).\(try SQLIdentifier.quoted(name))" }
    }

    package var display: String { "\(schema).\(name)" }

    /// Looks up `table` or `schema.table` (default schema `public`); only ordinary, partitioned
    /// and materialized tables qualify.
    package static func resolve(_ text: String, on connection: PostgresConnection) async throws -> TableReference {
        let parts = text.split(separator: ".", maxSplits: 1).map(String.init)
        let (schema, name) = parts.count == 2 ? (parts[0], parts[1]) : ("public", text)
        let found = try await connection.query(
            """
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'm')
            """,
            [schema, name]
        )
        guard let row = found.first else {
            throw MaintenanceError("table \(text.debugDescription) does not exist in this database")
        }
        return TableReference(schema: try row.decode("nspname"), name: try row.decode("relname"))
    }

    /// Every user table, most dead tuples first.
    package static func all(on connection: PostgresConnection) async throws -> [TableReference] {
        let rows = try await connection.query(
            "SELECT schemaname, relname FROM pg_stat_user_tables ORDER BY n_dead_tup DESC, schemaname, relname"
        )
        return try rows.rows.map { TableReference(schema: try $0.decode("schemaname"), name: try $0.decode("relname")) }
    }
}
