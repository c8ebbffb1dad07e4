@testable import Database
import Foundation
import PostgresClient
@testable import Queue
@testable import Settings
@testable import Support
import TestSupport
import Testing

/// A retention run over several policies: each runs and is recorded on its own.
@Suite("Retention over all policies", .serialized)
struct RetentionPoliciesTests {
    /// Tables `a` and `c` (plain keys) and `b` (composite key), each with 300 old and 10 new rows.
    private func withPolicies<T: Sendable>(
        bIndexed: Bool, _ body: (Harness, PostgresConnection) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            _ = try await Migrator(directory: Harness.migrationsDirectory).migrate(connection, appliedBy: "tests", logger: Harness.logger)
            try await connection.execute("""
                CREATE TABLE a (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL);
                CREATE TABLE b (account int, seq int, created_at timestamptz NOT NULL, PRIMARY KEY (account, seq));
                CREATE TABLE c (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL);
                INSERT INTO a (created_at) SELECT now() - interval '100 days' - i * interval '1 minute' FROM generate_series(1, 300) i;
                INSERT INTO c (created_at) SELECT now() - interval '100 days' - i * interval '1 minute' FROM generate_series(1, 300) i;
                INSERT INTO a (created_at) SELECT now() - i * interval '1 minute' FROM generate_series(1, 10) i;
                INSERT INTO c (created_at) SELECT now() - i * interval '1 minute' FROM generate_series(1, 10) i;
                -- one old timestamp shared by all old rows of b: more than a batch, split without a single-column key
                INSERT INTO b SELECT i % 3, i, date_trunc('day', now()) - interval '100 days' FROM generate_series(1, 300) i;
                INSERT INTO b SELECT 9, i, now() FROM generate_series(1, 10) i;
                """)
            if bIndexed { try await connection.execute("CREATE INDEX b_created_at ON b (created_at)") }
            let policies = ["a", "b", "c"].reduce(into: [String: RetentionDeletePolicy]()) {
                $0[$1] = RetentionDeletePolicy(database: "app", table: $1, column: "created_at", keepDays: 90, batchSize: 100)
            }
            let harness = Harness(
                database: database,
                connector: DatabaseConnector(orchestrator: database.configuration, environment: ProcessInfo.processInfo.environment),
                configuration: Configuration(databases: ["app": TargetDatabase(dbname: database.name)], retention: policies)
            )
            return try await body(harness, connection)
        }
    }

    private func rows(_ table: String, _ connection: PostgresConnection) async throws -> Int {
        try await connection.query("SELECT count(*) AS n FROM \(table)").first!.decode("n")
    }

    private func entries(_ result: JSONValue?) -> [String: [String: JSONValue]] {
        guard case .object(let top)? = result, case .array(let list)? = top["policies"] else { return [:] }
        return list.reduce(into: [:]) { entries, item in
            if case .object(let entry) = item, let name = entry["policy"]?.stringValue { entries[name] = entry }
        }
    }

    @Test func aFailingPolicyDoesNotStopTheOthersAndEachIsRecorded() async throws {
        try await withPolicies(bIndexed: false) { harness, connection in
            let id = try await harness.enqueue(kind: "retention", on: connection)
            try await harness.worker(drain: true).run()
            let job = try #require(try await JobQueue.job(id: id, on: connection))
            #expect(job.state == .failed)
            #expect(job.lastError?.hasPrefix("retention failed for 1 of 3 policies (b): b: public.b has a composite primary key (account, seq)") == true,
                    "\(job.lastError ?? "")")
            #expect(job.lastError?.contains("CREATE INDEX CONCURRENTLY ON \"public\".\"b\" (\"created_at\")") == true)
            #expect(try await rows("a", connection) == 10)
            #expect(try await rows("b", connection) == 310)
            #expect(try await rows("c", connection) == 10)
            let recorded = entries(try await JobQueue.runs(jobID: id, on: connection).last?.result)
            #expect(recorded["a"]?["status"] == .string("succeeded"))
            #expect(recorded["a"]?["rows_deleted"] == .int(300))
            #expect(recorded["b"]?["status"] == .string("failed"))
            #expect(recorded["b"]?["rows_deleted"] == .int(0))
            #expect(recorded["b"]?["error"]?.stringValue?.contains("composite primary key") == true)
            #expect(recorded["c"]?["status"] == .string("succeeded"))
            #expect(recorded["c"]?["rows_deleted"] == .int(300))
        }
    }

    @Test func aCompositeKeyTableWithATimestampIndexIsWalkedByIt() async throws {
        try await withPolicies(bIndexed: true) { harness, connection in
            let id = try await harness.enqueue(kind: "retention", target: "b", on: connection)
            try await harness.worker(drain: true).run()
            #expect(try await harness.state(of: id, on: connection) == "succeeded")
            #expect(try await rows("b", connection) == 10)
            let recorded = entries(try await JobQueue.runs(jobID: id, on: connection).last?.result)
            #expect(recorded["b"]?["rows_deleted"] == .int(300))
            #expect(recorded["b"]?["walk"] == .string("index b_created_at"))
            #expect((recorded["b"]?["batches"]?.intValue ?? 0) >= 2)  // 300 rows on one timestamp, at most 100 in the first batch
        }
    }
}
