import Foundation
import Maintenance
import PostgresClient
import Queue
import Runtime
import Settings
import Support

/// `reindex DATABASE [--arg table=T | --arg index=I]`: `REINDEX INDEX CONCURRENTLY` index by
/// index, so reads and writes go on. First drops the invalid `_ccnew`/`_ccold` indexes that an
/// earlier interrupted concurrent rebuild leaves behind (they cost writes and disk), and records
/// them; other invalid indexes are reported, not touched.
package struct ReindexJob: JobKind {
    package init() {}
    package let name = "reindex"
    package let summary = "REINDEX ... CONCURRENTLY a configured database (table=T or index=I), cleaning up leftovers of interrupted rebuilds"
    package let target = TargetRule.required("a database name from the configuration's databases:")
    package let defaultMaxAttempts = 2
    package let defaultTimeoutSeconds = 6 * 3600
    package let placement = Placement.shared

    /// At most one of `table` and `index`; neither rebuilds every index of the database.
    package struct Arguments: JobArguments, Equatable {
        static let table = JobArgument.text("table", maxBytes: 127, "only this table's indexes (schema.table or table)")
        static let index = JobArgument.text("index", maxBytes: 127, "only this index (schema.index or index)")
        static let lockTimeoutMs = JobArgument.integer(
            "lock_timeout_ms", 1...600_000, default: 5000, "give up on an index whose lock is not granted in time"
        )
        package static let specs = [table.spec, index.spec, lockTimeoutMs.spec]

        package var table: String?
        package var index: String?
        package var lockTimeoutMs: Int64
    }

    package func validate(target: String?, arguments: Arguments, configuration: Configuration) throws(JobValidationError) -> String? {
        _ = try TableMaintenance.database(target, in: configuration)
        return nil
    }

    package func run(_ job: ClaimedJob, arguments: Arguments, context: JobContext) async throws -> [String: JSONValue] {
        guard let database = job.target else { throw PermanentJobError("reindex needs a database") }
        return try await context.withDatabase(database) { connection in
            try await connection.query("SELECT set_config('lock_timeout', $1, false)", ["\(arguments.lockTimeoutMs)ms"])
            var dropped: [JSONValue] = []
            var refused: [(index: String, reason: String)] = []
            var notDropped: [JSONValue] = []
            for leftover in try await Self.invalidIndexes(on: connection, leftoversOnly: true) {
                // DROP INDEX needs the table's owner on every version (MAINTAIN does not cover it).
                if let reason = try await TablePrivileges.of(leftover.table, on: connection).refusal(.reindex) {
                    context.logger.warning("invalid leftover index not dropped", metadata: ["db.index": "\(leftover.index.display)", "reason": "\(reason)"])
                    notDropped.append(.object(["index": .string(leftover.index.display), "reason": .string(reason)]))
                    continue
                }
                try await connection.execute("DROP INDEX CONCURRENTLY IF EXISTS \(try leftover.index.quoted)")
                context.logger.notice("dropped an invalid index left by an interrupted rebuild", metadata: ["db.index": "\(leftover.index.display)"])
                dropped.append(.string(leftover.index.display))
            }
            let indexes = try await Self.indexes(arguments, on: connection)
            var rebuilt: [JSONValue] = []
            var skipped: [JSONValue] = []
            var privileges: [TableReference: TablePrivileges] = [:]
            for target in indexes {
                try Task.checkCancellation()
                if privileges[target.table] == nil { privileges[target.table] = try await TablePrivileges.of(target.table, on: connection) }
                if let reason = privileges[target.table]?.refusal(.reindex) {
                    context.logger.warning("index not permitted; skipped", metadata: ["db.index": "\(target.index.display)", "reason": "\(reason)"])
                    refused.append((target.index.display, reason))
                    continue
                }
                do {
                    let before = try await Self.size(of: target.index, on: connection)
                    let started = ContinuousClock.now
                    try await connection.execute("REINDEX INDEX CONCURRENTLY \(try target.index.quoted)")
                    let seconds = (ContinuousClock.now - started).seconds
                    let after = try await Self.size(of: target.index, on: connection)
                    rebuilt.append(.object([
                        "index": .string(target.index.display), "table": .string(target.table.display), "seconds": .double(seconds),
                        "bytes_before": .int(before), "bytes_after": .int(after),
                    ]))
                } catch let error as PostgresError where error.sqlState == "55P03" {
                    context.logger.warning("index locked; skipped", metadata: ["db.index": "\(target.index.display)"])
                    skipped.append(.string(target.index.display))
                }
            }
            let stillInvalid = try await Self.invalidIndexes(on: connection, leftoversOnly: false).map { JSONValue.string($0.index.display) }
            let result: [String: JSONValue] = [
                "dropped_leftovers": .array(dropped), "leftovers_not_permitted": .array(notDropped), "indexes": .array(rebuilt),
                "skipped_locked": .array(skipped), "invalid_indexes_left": .array(stillInvalid),
                "skipped_not_permitted": .array(refused.map { .object(["index": .string($0.index), "reason": .string($0.reason)]) }),
            ]
            if rebuilt.isEmpty && !refused.isEmpty {
                throw JobFailure(TablePrivileges.nothingDone("REINDEX", refusals: refused.map(\.reason)), result: result, permanent: true)
            }
            return result
        }
    }

    /// An index and the table it belongs to (whose owner may rebuild it).
    struct IndexTarget: Sendable {
        let index: TableReference
        let table: TableReference
    }

    /// Invalid user indexes; with `leftoversOnly`, those named like a concurrent rebuild's copies.
    static func invalidIndexes(on connection: PostgresConnection, leftoversOnly: Bool) async throws -> [IndexTarget] {
        let rows = try await connection.query(
            """
            SELECT n.nspname, c.relname, tn.nspname AS table_schema, t.relname AS table_name FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
            WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
              AND (NOT $1 OR c.relname ~ '_cc(new|old)[0-9]*$')
            ORDER BY 1, 2
            """,
            [leftoversOnly]
        )
        return try rows.rows.map(Self.target)
    }

    static func target(_ row: PostgresRow) throws -> IndexTarget {
        IndexTarget(index: TableReference(schema: try row.decode("nspname"), name: try row.decode("relname")),
                    table: TableReference(schema: try row.decode("table_schema"), name: try row.decode("table_name")))
    }

    static func indexes(_ arguments: Arguments, on connection: PostgresConnection) async throws -> [IndexTarget] {
        if let index = arguments.index {
            let parts = index.split(separator: ".", maxSplits: 1).map(String.init)
            let (schema, name) = parts.count == 2 ? (parts[0], parts[1]) : ("public", index)
            let found = try await connection.query(
                """
                SELECT schemaname AS nspname, indexrelname AS relname, schemaname AS table_schema, relname AS table_name
                FROM pg_stat_user_indexes WHERE schemaname = $1 AND indexrelname = $2
                """,
                [schema, name]
            )
            guard let row = found.first else { throw PermanentJobError("index \(index.debugDescription) does not exist in this database") }
            return [try Self.target(row)]
        }
        var sql = """
            SELECT s.schemaname AS nspname, s.indexrelname AS relname, s.schemaname AS table_schema, s.relname AS table_name
            FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
            WHERE i.indisvalid
            """
        var parameters: [(any PostgresEncodable)?] = []
        if let table = arguments.table {
            let resolved = try await TableReference.resolve(table, on: connection)
            sql += " AND s.schemaname = $1 AND s.relname = $2"
            parameters = [resolved.schema, resolved.name]
        }
        let rows = try await connection.query(sql + " ORDER BY 1, 2", parameters)
        return try rows.rows.map(Self.target)
    }

    static func size(of index: TableReference, on connection: PostgresConnection) async throws -> Int64 {
        let row = try await connection.query(
            """
            SELECT pg_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2
            """,
            [index.schema, index.name]
        ).first
        return try row?.decode("bytes") ?? 0
    }
}

extension ReindexJob.Arguments {
    package init(_ values: ArgumentValues) throws(JobValidationError) {
        table = try values[Self.table]
        index = try values[Self.index]
        lockTimeoutMs = try values[Self.lockTimeoutMs]
        if table != nil && index != nil {
            throw JobValidationError("reindex takes table=T or index=I, not both")
        }
    }
}

extension ReindexJob {
    /// The role must be allowed to REINDEX the table (or every table) in the target database.
    package func roleChecks(target: String?, arguments: Arguments, configuration: Configuration) -> [RoleCheck] {
        guard let target else { return [] }
        return [RoleCheck(database: target) { try await TablePrivileges.problem(.reindex, table: arguments.table, on: $0) }]
    }
}
