@testable import Database
import Foundation
@testable import Kinds
import PostgresClient
@testable import Queue
@testable import Runtime
@testable import Settings
import TestSupport
import Testing

@Suite("Vacuum and analyze", .serialized)
struct VacuumTests {
    private func withVacuumHarness<T: Sendable>(_ body: (Harness, PostgresConnection) async throws -> T) async throws -> T {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            _ = try await Migrator(directory: Harness.migrationsDirectory).migrate(connection, appliedBy: "tests", logger: Harness.logger)
            try await connection.execute("""
                CREATE TABLE trades (id bigserial PRIMARY KEY, symbol text NOT NULL, price numeric NOT NULL) WITH (autovacuum_enabled = false);
                INSERT INTO trades (symbol, price) SELECT 'SYM' || (i % 10), i FROM generate_series(1, 20000) i;
                DELETE FROM trades WHERE id % 2 = 0;
                """)
            let harness = Harness(
                database: database,
                connector: DatabaseConnector(orchestrator: database.configuration, environment: ProcessInfo.processInfo.environment),
                configuration: Configuration(databases: ["app": TargetDatabase(dbname: database.name)])
            )
            return try await body(harness, connection)
        }
    }

    private func run(_ harness: Harness, _ kind: String, _ arguments: [String: String], on connection: PostgresConnection) async throws -> JobRecord? {
        let id = try await harness.enqueue(arguments, kind: kind, target: "app", on: connection)
        try await harness.worker(drain: true).run()
        return try await JobQueue.job(id: id, on: connection)
    }

    private func deadTuples(_ connection: PostgresConnection) async throws -> Int64 {
        try await connection.query("SELECT pg_stat_clear_snapshot()")
        return try await connection.query("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'trades'").first?.decode("n_dead_tup") ?? -1
    }

    @Test func deadTuplesDropAndEachTableIsRecorded() async throws {
        try await withVacuumHarness { harness, connection in
            try await expectEventually(timeout: .seconds(10)) { try await deadTuples(connection) >= 10000 }
            let job = try await run(harness, "vacuum", ["table": "public.trades", "analyze": "true"], on: connection)
            #expect(job?.state == .succeeded)
            #expect(try await deadTuples(connection) == 0)
            let result = try #require(try await JobQueue.runs(jobID: job!.id, on: connection).last?.result)
            guard case .object(let object) = result, case .array(let tables) = object["tables"], case .object(let trades) = tables.first else {
                Issue.record("unexpected result \(result)")
                return
            }
            #expect(object["command"] == .string("VACUUM (ANALYZE)"))
            #expect(trades["table"] == .string("public.trades"))
            #expect((trades["dead_tuples_before"]?.intValue ?? 0) >= 10000)
            #expect(trades["dead_tuples_after"] == .int(0))
            #expect(try await JobQueue.runs(jobID: job!.id, on: connection).last?.backendPID != nil)
        }
    }

    @Test func autoPicksOnlyTablesOverTheThresholds() async throws {
        try await withVacuumHarness { harness, connection in
            try await connection.execute("""
                CREATE TABLE quiet (id int PRIMARY KEY) WITH (autovacuum_enabled = false);
                INSERT INTO quiet SELECT generate_series(1, 1000);
                """)
            try await expectEventually(timeout: .seconds(10)) { try await deadTuples(connection) >= 10000 }
            let job = try await run(harness, "vacuum", ["auto": "true", "dead_threshold": "1000"], on: connection)
            #expect(job?.state == .succeeded)
            let result = try await JobQueue.runs(jobID: job!.id, on: connection).last?.result
            guard case .object(let object)? = result, case .array(let tables)? = object["tables"] else {
                Issue.record("unexpected result \(String(describing: result))")
                return
            }
            let names = tables.compactMap { entry -> String? in
                if case .object(let fields) = entry { return fields["table"]?.stringValue }
                return nil
            }
            #expect(names.contains("public.trades"))
            #expect(!names.contains("public.quiet"))
            #expect(try await deadTuples(connection) == 0)
        }
    }

    @Test func hostileTableNamesAreUnknownTablesNotSQL() async throws {
        try await withVacuumHarness { harness, connection in
            let job = try await run(harness, "vacuum", ["table": "trades; DROP TABLE trades"], on: connection)
            #expect(job?.state == .failed)
            #expect(job?.lastError == "table \"trades; DROP TABLE trades\" does not exist in this database")
            #expect(try await harness.count("SELECT count(*) AS n FROM trades", on: connection) == 10000)
            #expect(try await JobQueue.runs(jobID: job!.id, on: connection).count == 1)  // permanent: not retried
        }
    }

    @Test func aLockedTableIsSkippedAfterTheLockTimeout() async throws {
        try await withVacuumHarness { harness, connection in
            let holder = try await harness.connect()
            defer { holder.close() }
            try await holder.execute("BEGIN; LOCK TABLE trades IN ACCESS EXCLUSIVE MODE")
            let job = try await run(harness, "vacuum", ["table": "trades", "lock_timeout_ms": "200"], on: connection)
            try await holder.execute("ROLLBACK")
            #expect(job?.state == .succeeded)
            let result = try await JobQueue.runs(jobID: job!.id, on: connection).last?.result
            guard case .object(let object)? = result else { Issue.record("no result"); return }
            #expect(object["skipped_locked"] == .array([.string("public.trades")]))
        }
    }

    @Test func reindexRemovesTheLeftoverOfACancelledConcurrentRebuild() async throws {
        try await withVacuumHarness { harness, connection in
            try await connection.execute("CREATE INDEX trades_symbol_idx ON trades (symbol)")
            // An old snapshot makes REINDEX CONCURRENTLY wait after it created its new index...
            let blocker = try await harness.connect()
            defer { blocker.close() }
            try await blocker.execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM trades")
            let rebuilder = try await harness.connect()
            defer { rebuilder.close() }
            let rebuild = Task { try await rebuilder.execute("REINDEX INDEX CONCURRENTLY trades_symbol_idx") }
            try await expectEventually(timeout: .seconds(10)) {
                try await harness.count("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
                                        [rebuilder.backendPID], on: connection) == 1
            }
            // ...and cancelling it there leaves that index behind, invalid.
            rebuild.cancel()
            _ = try? await rebuild.value
            try await blocker.execute("ROLLBACK")
            let leftovers = "SELECT count(*) AS n FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid AND c.relname LIKE 'trades_symbol_idx_cc%'"
            #expect(try await harness.count(leftovers, on: connection) == 1)

            let job = try await run(harness, "reindex", ["table": "trades"], on: connection)
            #expect(job?.state == .succeeded)
            #expect(try await harness.count(leftovers, on: connection) == 0)
            let result = try await JobQueue.runs(jobID: job!.id, on: connection).last?.result
            guard case .object(let object)? = result, case .array(let dropped)? = object["dropped_leftovers"],
                  case .array(let rebuilt)? = object["indexes"] else {
                Issue.record("unexpected result \(String(describing: result))")
                return
            }
            #expect(dropped.count == 1)
            #expect(dropped.first?.stringValue?.hasPrefix("public.trades_symbol_idx_cc") == true)
            #expect(rebuilt.count == 2)  // the primary key and trades_symbol_idx
            #expect(object["invalid_indexes_left"] == .array([]))
        }
    }

    @Test func onlyAFullVacuumHoldsTheDatabaseKey() throws {
        let configuration = Configuration(databases: ["app": TargetDatabase(dbname: "trading_agent")])
        func key(_ arguments: [String: String]) throws -> String? {
            try JobKindRegistry.standard.prepare(
                JobRequest(kind: "vacuum", target: "app", arguments: arguments, enqueuedBy: "tests"), configuration: configuration, hostName: "h"
            ).concurrencyKey
        }
        #expect(try key([:]) == nil)
        #expect(try key(["full": "true"]) == "db:trading_agent")
        #expect(throws: JobValidationError.self) {
            try JobKindRegistry.standard.prepare(JobRequest(kind: "analyze", target: "nope", enqueuedBy: "tests"), configuration: configuration, hostName: "h")
        }
    }
}
