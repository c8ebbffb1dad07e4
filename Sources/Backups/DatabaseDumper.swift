import BlockingWork
import Database
import Foundation
import Logging
import PostgresClient
import Support

/// Dumps one database with `pg_dump` in directory format (parallel dump and parallel restore),
/// from an exported snapshot, then counts every table's rows exactly from the dump's own data
/// (`DumpRowCounter`), so a restore can later be checked row for row without the live server
/// ever scanning a table for it.
struct DatabaseDumper: Sendable {
    let connection: ConnectionConfiguration
    let parallelJobs: Int
    let pgDump: String
    let pgRestore: String
    let priority: ProcessPriority
    let logger: Logger
    /// The partial backup's writer lock, held by pg_dump and its helpers while they live.
    let lock: Int32

    struct Result: Sendable {
        let serverVersion: String
        let snapshotTime: Date
        let options: [String]
        let tables: [BackupManifest.TableCount]
        let countSeconds: Double
    }

    /// Dumps into `directory` (`relative` names it in errors).
    func dump(into directory: String, named relative: String) async throws -> Result {
        let session = try await PostgresConnection.connect(target: connection)
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
        // pg_dump's own sync at exit would flush the whole dump in one burst, and the
        // application's commits would wait behind it: the pacer pushes it out as it grows.
        let options = ["--format=directory", "--jobs=\(parallelJobs)", "--compress=1", "--no-password", "--no-sync"]
        logger.info("dumping database", metadata: ["db.name": "\(connection.redactedParameters["dbname"] ?? "?")", "dump.jobs": "\(parallelJobs)"])
        var environment = connection.toolEnvironment
        if checksClient {
            environment["PGOPTIONS"] = [environment["PGOPTIONS"], "-c client_connection_check_interval=1000"]
                .compactMap { $0 }.joined(separator: " ")
        }
        // The exporting transaction must stay open until pg_dump has imported the snapshot; it
        // stays open for the whole dump while the table list is read in it concurrently.
        let pacer = WritebackPacer(directory: directory, recursive: true)
        let listed = try await pacer.pacing { [environment] in
            async let dumped = ChildProcess.run(
                pgDump, options + ["--snapshot=\(snapshot)", "--file=\(directory)"], environment: environment, inheriting: [lock], priority: priority
            )
            let listed: [ListedTable]
            do {
                listed = try await listTables(session)
            } catch {
                _ = try? await dumped
                throw error
            }
            _ = try await dumped
            return listed
        }
        try await session.execute("COMMIT")
        try await BlockingExecutor.shared.run(.jobs) { try pacer.finish() }

        // The dump is read end to end once, after the snapshot is released: this pass is the
        // fresh backup's proof that the dump reads, and the source of its row counts.
        let clock = ContinuousClock.now
        let counted = try await DumpRowCounter(pgRestore: pgRestore, priority: priority).count(dump: directory, named: relative)
        let tables = try Self.tables(listed, counted: counted, dump: relative)
        return Result(
            serverVersion: try row.decode("version"), snapshotTime: try row.decode("taken"), options: options, tables: tables,
            countSeconds: (ContinuousClock.now - clock).seconds
        )
    }

    struct ListedTable: Sendable {
        let schema: String
        let table: String
        /// Rows of an extension's table, counted in the snapshot; nil for any other table.
        let serverRows: Int64?
    }

    /// Every ordinary table (partitions included), from the catalog in the snapshot. Only an
    /// extension's own tables are counted here (few and small, e.g. `spatial_ref_sys`): their
    /// rows come back at restore from `CREATE EXTENSION`, not from the dump.
    private func listTables(_ session: PostgresConnection) async throws -> [ListedTable] {
        let tables = try await session.query(
            """
            SELECT n.nspname AS schema, c.relname AS table,
                   EXISTS (SELECT 1 FROM pg_depend d
                           WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') AS extension
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r'
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
            ORDER BY 1, 2
            """
        )
        var listed: [ListedTable] = []
        for row in tables.rows {
            let schema: String = try row.decode("schema")
            let table: String = try row.decode("table")
            var serverRows: Int64?
            if try row.decode("extension", as: Bool.self) {
                let sql = "SELECT count(*) AS n FROM ONLY \(try SQLIdentifier.quoted(schema)).\(try SQLIdentifier.quoted(table))"
                serverRows = try await session.query(sql).single().decode("n")  // count(*) returns one row
            }
            listed.append(ListedTable(schema: schema, table: table, serverRows: serverRows))
        }
        return listed
    }

    /// The manifest's tables: the catalog's list with the dump's counts. A listed table without
    /// data in the dump, or data for a table not listed, means the dump is not what it should be.
    static func tables(_ listed: [ListedTable], counted: [CopyRowCounter.Table: Int64], dump relative: String) throws -> [BackupManifest.TableCount] {
        var result: [BackupManifest.TableCount] = []
        var known: Set<CopyRowCounter.Table> = []
        for entry in listed {
            let key = CopyRowCounter.Table(schema: entry.schema, table: entry.table)
            known.insert(key)
            if let rows = entry.serverRows {
                result.append(.init(schema: entry.schema, table: entry.table, rows: rows, countedOnServer: true))
                continue
            }
            guard let rows = counted[key] else {
                throw BackupError("pg_dump wrote no data for table \(key) into \(relative); was it excluded or unreadable?")
            }
            result.append(.init(schema: entry.schema, table: entry.table, rows: rows))
        }
        if let extra = counted.keys.filter({ !known.contains($0) }).min(by: { "\($0)" < "\($1)" }) {
            throw BackupError("\(relative) holds data for table \(extra), which is not an ordinary table of the database")
        }
        return result
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
