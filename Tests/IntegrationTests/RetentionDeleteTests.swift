@testable import Database
import Foundation
@testable import Kinds
@testable import Maintenance
import PostgresClient
@testable import Queue
@testable import Settings
import TestSupport
import Testing

@Suite("Batched retention deletes", .serialized)
struct RetentionDeleteTests {
    private func withTrades<T: Sendable>(
        _ policy: RetentionDeletePolicy, _ body: (Harness, PostgresConnection) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            _ = try await Migrator(directory: Harness.migrationsDirectory).migrate(connection, appliedBy: "tests", logger: Harness.logger)
            try await connection.execute("""
                CREATE TABLE trades (id bigserial PRIMARY KEY, symbol text NOT NULL, created_at timestamptz NOT NULL);
                INSERT INTO trades (symbol, created_at) SELECT 'OLD', now() - interval '200 days' + i * interval '1 second' FROM generate_series(1, 3000) i;
                INSERT INTO trades (symbol, created_at) VALUES ('EDGE-OLD', now() - interval '90 days' - interval '1 minute'),
                                                               ('EDGE-NEW', now() - interval '90 days' + interval '1 minute');
                INSERT INTO trades (symbol, created_at) SELECT 'NEW', now() - i * interval '1 hour' FROM generate_series(1, 500) i;
                CREATE TABLE "no key" (created_at timestamptz);
                """)
            var policy = policy
            policy.database = "app"
            let harness = Harness(
                database: database,
                connector: DatabaseConnector(orchestrator: database.configuration, environment: ProcessInfo.processInfo.environment),
                configuration: Configuration(databases: ["app": TargetDatabase(dbname: database.name)], retention: ["trades": policy])
            )
            return try await body(harness, connection)
        }
    }

    private func count(_ connection: PostgresConnection, _ condition: String = "true") async throws -> Int {
        try await connection.query("SELECT count(*) AS n FROM trades WHERE \(condition)").first!.decode("n")
    }

    @Test func exactlyTheRowsPastTheBoundaryGo() async throws {
        let policy = RetentionDeletePolicy(database: "app", table: "trades", column: "created_at", keepDays: 90, batchSize: 500, sleepMs: 0)
        try await withTrades(policy) { harness, connection in
            let dry = try await harness.enqueue(["dry_run": "true"], kind: "retention", target: "trades", on: connection)
            try await harness.worker(drain: true).run()
            let dryResult = try await JobQueue.runs(jobID: dry, on: connection).last?.result
            #expect(dryResult?.jsonText.contains("\"would_delete\":3001") == true)
            #expect(try await count(connection) == 3502)

            let id = try await harness.enqueue(kind: "retention", target: "trades", on: connection)
            try await harness.worker(drain: true).run()
            #expect(try await harness.state(of: id, on: connection) == "succeeded")
            #expect(try await count(connection) == 501)
            #expect(try await count(connection, "symbol = 'EDGE-NEW'") == 1)
            #expect(try await count(connection, "symbol IN ('OLD', 'EDGE-OLD')") == 0)
            let result = try #require(try await JobQueue.runs(jobID: id, on: connection).last?.result)
            guard case .object(let top) = result, case .array(let policies)? = top["policies"], case .object(let entry)? = policies.first else {
                Issue.record("unexpected result \(result)")
                return
            }
            #expect(entry["rows_deleted"] == .int(3001))
            #expect((entry["batches"]?.intValue ?? 0) >= 4)
            #expect((entry["wal_bytes"]?.intValue ?? 0) > 0)
        }
    }

    @Test func cancelMidwayKeepsTheCommittedBatches() async throws {
        let policy = RetentionDeletePolicy(database: "app", table: "trades", column: "created_at", keepDays: 90, batchSize: 50, targetBatchMs: 1000, sleepMs: 1000)
        try await withTrades(policy) { harness, connection in
            let id = try await harness.enqueue(kind: "retention", target: "trades", on: connection)
            try await running(harness.worker()) {
                try await expectEventually(timeout: .seconds(20)) { try await count(connection) < 3400 }
                _ = try await JobQueue.cancel(id: id, on: connection)
                try await expectEventually(timeout: .seconds(10)) { try await harness.state(of: id, on: connection) == "cancelled" }
            }
            let remaining = try await count(connection)
            #expect(remaining < 3400)
            #expect(remaining > 501)  // stopped before the end
            #expect(try await count(connection, "symbol = 'NEW' OR symbol = 'EDGE-NEW'") == 501)
        }
    }

    @Test func configCheckFindsUnusableRetentionTablesBeforeTheyRun() async throws {
        let policy = RetentionDeletePolicy(database: "app", table: "no key", column: "created_at", keepDays: 90)
        try await withTrades(policy) { harness, _ in
            var configuration = harness.configuration
            configuration.retention["fine"] = RetentionDeletePolicy(database: "app", table: "trades", column: "created_at", keepDays: 90)
            let problems = await DatabaseChecks.run(configuration: configuration, connector: harness.connector)
            #expect(problems.map(\.description) == ["retention.trades: public.no key has no primary key and no btree index starting with created_at; batched deletes walk one of them: CREATE INDEX CONCURRENTLY ON \"public\".\"no key\" (\"created_at\")"])
        }
    }

    @Test(arguments: [
        ("trades; DROP TABLE trades", "created_at", "table \"trades; DROP TABLE trades\" does not exist"),
        ("trades", "created_at; DROP TABLE trades", "column \"created_at; DROP TABLE trades\" does not exist in public.trades"),
        ("trades", "symbol", "column symbol of public.trades is text, not a timestamp or date"),
        ("no key", "created_at", "public.no key has no primary key and no btree index starting with created_at"),
    ])
    func unusableTablesAndHostileNamesFailClearly(table: String, column: String, message: String) async throws {
        let policy = RetentionDeletePolicy(database: "app", table: table, column: column, keepDays: 90)
        try await withTrades(policy) { harness, connection in
            let id = try await harness.enqueue(kind: "retention", target: "trades", on: connection)
            try await harness.worker(drain: true).run()
            let job = try await JobQueue.job(id: id, on: connection)
            #expect(job?.state == .failed)
            #expect(job?.lastError?.hasPrefix(message) == true, "\(job?.lastError ?? "")")
            #expect(try await count(connection) == 3502)
        }
    }
}
