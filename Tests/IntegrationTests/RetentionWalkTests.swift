@testable import Database
import Foundation
@testable import Maintenance
import PostgresClient
@testable import Queue
@testable import Settings
@testable import Support
import Synchronization
import TestSupport
import Testing

/// The keyset walks of the retention delete on a table whose primary key (and physical order)
/// says nothing about the timestamp: both with an index on the timestamp (walk by it) and
/// without (walk by the key), with a group of equal timestamps larger than a batch, the
/// policy's extra condition, and concurrent writes.
@Suite("Retention walks", .serialized)
struct RetentionWalkTests {
    /// 2,000 old rows one second apart, 1,000 old rows sharing one timestamp, 300 old rows the
    /// condition keeps, 500 recent rows, the two rows at the boundary; ids are a permutation
    /// unrelated to the timestamp and the rows are inserted in random order.
    private func withTicks<T: Sendable>(
        timestampIndex: Bool, condition: String? = nil, sleepMs: Int = 0,
        _ body: (Harness, PostgresConnection) async throws -> T
    ) async throws -> T {
        let policy = RetentionDeletePolicy(
            database: "app", table: "ticks", column: "created_at", keepDays: 90,
            batchSize: 20, targetBatchMs: 1, sleepMs: sleepMs, condition: condition
        )
        return try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            _ = try await Migrator(directory: Harness.migrationsDirectory).migrate(connection, appliedBy: "tests", logger: Harness.logger)
            try await connection.execute("""
                CREATE TABLE ticks (id bigint PRIMARY KEY, symbol text NOT NULL, created_at timestamptz NOT NULL, touched int NOT NULL DEFAULT 0);
                CREATE TEMP TABLE source AS
                    SELECT 'OLD' AS symbol, now() - interval '200 days' + i * interval '1 second' AS created_at FROM generate_series(1, 2000) i
                    UNION ALL SELECT 'TIE', date_trunc('day', now()) - interval '150 days' FROM generate_series(1, 1000)
                    UNION ALL SELECT 'KEEP', now() - interval '120 days' - i * interval '1 minute' FROM generate_series(1, 299) i
                    UNION ALL SELECT 'KEEP', date_trunc('day', now()) - interval '150 days'
                    UNION ALL SELECT 'NEW', now() - i * interval '1 hour' FROM generate_series(1, 500) i
                    UNION ALL SELECT 'EDGE-OLD', now() - interval '90 days' - interval '1 minute'
                    UNION ALL SELECT 'EDGE-NEW', now() - interval '90 days' + interval '1 minute';
                INSERT INTO ticks (id, symbol, created_at)
                    SELECT (row_number() OVER (ORDER BY random()) * 7919) % 100003, symbol, created_at FROM source ORDER BY random();
                DROP TABLE source;
                """)
            if timestampIndex { try await connection.execute("CREATE INDEX ticks_created_at_idx ON ticks (created_at)") }
            let harness = Harness(
                database: database,
                connector: DatabaseConnector(orchestrator: database.configuration, environment: ProcessInfo.processInfo.environment),
                configuration: Configuration(databases: ["app": TargetDatabase(dbname: database.name)], retention: ["ticks": policy])
            )
            return try await body(harness, connection)
        }
    }

    private func count(_ connection: PostgresConnection, _ condition: String) async throws -> Int {
        try await connection.query("SELECT count(*) AS n FROM ticks WHERE \(condition)").first!.decode("n")
    }

    private func runRetention(_ harness: Harness, on connection: PostgresConnection) async throws -> [String: JSONValue] {
        let id = try await harness.enqueue(kind: "retention", target: "ticks", on: connection)
        try await harness.worker(drain: true).run()
        #expect(try await harness.state(of: id, on: connection) == "succeeded")
        let result = try #require(try await JobQueue.runs(jobID: id, on: connection).last?.result)
        guard case .object(let top) = result, case .array(let policies)? = top["policies"], case .object(let entry)? = policies.first else {
            Issue.record("unexpected result \(result)")
            return [:]
        }
        return entry
    }

    @Test(arguments: [true, false])
    func uncorrelatedKeysTiesAndConditionDeleteExactlyTheEligibleRows(timestampIndex: Bool) async throws {
        try await withTicks(timestampIndex: timestampIndex, condition: "symbol <> 'KEEP'") { harness, connection in
            #expect(try await count(connection, "true") == 3802)
            let entry = try await runRetention(harness, on: connection)
            #expect(entry["walk"] == .string(timestampIndex ? "index ticks_created_at_idx" : "primary key"))
            #expect(entry["rows_deleted"] == .int(3001))
            #expect(try await count(connection, "symbol IN ('OLD', 'TIE', 'EDGE-OLD')") == 0)
            #expect(try await count(connection, "symbol = 'KEEP'") == 300)
            #expect(try await count(connection, "symbol IN ('NEW', 'EDGE-NEW')") == 501)
        }
    }

    @Test(arguments: [true, false])
    func everyBatchStaysWithinItsSizeEvenOnOneTimestamp(timestampIndex: Bool) async throws {
        try await withTicks(timestampIndex: timestampIndex) { _, connection in
            let cutoff: String = try await connection.query("SELECT (now() - interval '90 days')::text AS c").first!.decode("c")
            var walk = DeleteWalk(
                order: timestampIndex ? .timestamp(index: "ticks_created_at_idx") : .key,
                table: "public.ticks", column: "created_at", key: "id", condition: nil, cutoff: cutoff
            )
            var batches: [DeleteWalk.Batch] = []
            while !walk.finished {
                if let batch = try await walk.next(size: 100, on: connection) { batches.append(batch) }
            }
            // Also the 1,000 rows on one timestamp, which no timestamp range can split.
            #expect(batches.allSatisfy { $0.deleted <= 100 })
            #expect(batches.reduce(0) { $0 + $1.deleted } == 3301)
            #expect(try await count(connection, "created_at < '\(cutoff)'") == 0)
            #expect(try await count(connection, "true") == 501)
        }
    }

    @Test(arguments: [true, false])
    func concurrentUpdatesAndInsertsDoNotChangeWhatIsDeleted(timestampIndex: Bool) async throws {
        try await withTicks(timestampIndex: timestampIndex, sleepMs: 2) { harness, connection in
            let writer = try await harness.connect()
            defer { writer.close() }
            // Updates random rows (old and new alike) and inserts fresh ones while the job runs.
            let stop = StopFlag()
            let writes = Task { () -> (updates: Int, inserts: Int) in
                var updates = 0, inserts = 0
                while !stop.raised {
                    let touched = try await writer.query(
                        "UPDATE ticks SET touched = touched + 1 WHERE id = ($1::bigint * 7919) % 100003",
                        [Int.random(in: 1...3802)]
                    ).affectedRows
                    updates += touched
                    try await writer.query(
                        "INSERT INTO ticks (id, symbol, created_at) VALUES ($1, 'LIVE', now())", [200_000 + inserts]
                    )
                    inserts += 1
                }
                return (updates, inserts)
            }
            let entry = try await runRetention(harness, on: connection)
            stop.raise()
            let done = try await writes.value
            #expect(done.inserts > 0 && done.updates > 0)
            #expect(try await count(connection, "created_at < now() - interval '90 days'") == 0)
            #expect(try await count(connection, "symbol IN ('NEW', 'EDGE-NEW')") == 501)
            #expect(try await count(connection, "symbol = 'LIVE'") == done.inserts)
            #expect(entry["rows_deleted"] == .int(3301))
        }
    }
}

/// Tells a writer loop in another task to stop.
private final class StopFlag: Sendable {
    private let state = Mutex(false)
    var raised: Bool { state.withLock { $0 } }
    func raise() { state.withLock { $0 = true } }
}
