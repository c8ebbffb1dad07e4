import Database
import Foundation
import Logging
import PostgresClient
import Support

/// Dumps one database with `pg_dump` in directory format (parallel dump and parallel restore),
/// from an exported snapshot, and counts every table's rows exactly in that same snapshot, so a
/// restore can later be checked row for row.
struct DatabaseDumper: Sendable {
    let connection: ConnectionConfiguration
    let parallelJobs: Int
    let pgDump: String
    let logger: Logger
    /// The partial backup's writer lock, held by pg_dump and its helpers while they live.
    let lock: Int32

    struct Result: Sendable {
        let serverVersion: String
        let snapshotTime: Date
        let options: [String]
        let tables: [BackupManifest.TableCount]
    }

    func dump(into directory: String) async throws -> Result {
        let session: PostgresConnection
        do {
            session = try await PostgresConnection.connect(connection)
        } catch let error as PostgresError where error.isInvalidCatalog {
            throw TargetDatabaseError("database \((connection.redactedParameters["dbname"] ?? "?").debugDescription) does not exist: \(error)")
        }
        defer { session.close() }
        // Sessions (this one and pg_dump's) whose client died while they waited for a lock notice
        // within a second and end, instead of waiting on in the lock queue (PostgreSQL 14+).
        let checksClient = try await session.query("SELECT current_setting('server_version_num')::int >= 140000 AS checks")
            .first?.decode("checks", as: Bool.self) ?? false
        if checksClient { try await session.execute("SET client_connection_check_interval = 1000") }
        try await session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        let facts = try await session.query(
            "SELECT pg_export_snapshot() AS snapshot, now() AS taken, current_setting('server_version') AS version"
        )
        guard let row = facts.first else { throw BackupError("could not export a snapshot") }
        let snapshot: String = try row.decode("snapshot")
        let options = ["--format=directory", "--jobs=\(parallelJobs)", "--compress=1", "--no-password"]
        logger.info("dumping database", metadata: ["db.name": "\(connection.redactedParameters["dbname"] ?? "?")", "dump.jobs": "\(parallelJobs)"])
        var environment = connection.toolEnvironment
        if checksClient {
            environment["PGOPTIONS"] = [environment["PGOPTIONS"], "-c client_connection_check_interval=1000"]
                .compactMap { $0 }.joined(separator: " ")
        }
        // The exporting transaction must stay open until pg_dump has imported the snapshot; it
        // stays open for the whole dump while the row counts run in it concurrently.
        async let dumped = ChildProcess.run(
            pgDump, options + ["--snapshot=\(snapshot)", "--file=\(directory)"], environment: environment, inheriting: [lock]
        )
        let tables: [BackupManifest.TableCount]
        do {
            tables = try await countRows(session)
        } catch {
            _ = try? await dumped
            throw error
        }
        _ = try await dumped
        try await session.execute("COMMIT")
        return Result(serverVersion: try row.decode("version"), snapshotTime: try row.decode("taken"), options: options, tables: tables)
    }

    /// Exact `count(*)` of every ordinary table (partitions included), in the snapshot.
    private func countRows(_ session: PostgresConnection) async throws -> [BackupManifest.TableCount] {
        let tables = try await session.query(
            """
            SELECT n.nspname AS schema, c.relname AS table
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r'
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
            ORDER BY 1, 2
            """
        )
        var counts: [BackupManifest.TableCount] = []
        for row in tables.rows {
            let schema: String = try row.decode("schema")
            let table: String = try row.decode("table")
            let sql = "SELECT count(*) AS n FROM ONLY \(try SQLIdentifier.quoted(schema)).\(try SQLIdentifier.quoted(table))"
            let count = try await session.query(sql)
            counts.append(.init(schema: schema, table: table, rows: try count.single().decode("n")))  // count(*) returns one row
        }
        return counts
    }

    /// `pg_dump (PostgreSQL) 15.18 ...` -> the first line.
    static func version(of tool: String) async throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("orchestrator-version-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        try await ChildProcess.run(tool, ["--version"], standardOutput: output)
        let text = try String(contentsOfFile: output, encoding: .utf8)
        return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
    }
}
