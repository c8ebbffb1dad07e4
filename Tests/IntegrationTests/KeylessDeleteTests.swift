import Foundation
@testable import Maintenance
import PostgresClient
@testable import Settings
import TestSupport
import Testing

/// A table without a single-column primary key (such as `schedule_occurrences`) is walked along
/// its timestamp index; rows sharing one timestamp beyond a batch are split by `ctid`.
@Suite("Batched deletes without a single-column key")
struct KeylessDeleteTests {
    @Test func tiesBeyondABatchAreDeletedByRowAddress() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            try await connection.execute("""
                CREATE TABLE events (source text, created_at timestamptz NOT NULL, PRIMARY KEY (source, created_at));
                CREATE INDEX events_created_idx ON events (created_at);
                INSERT INTO events SELECT 'tie-' || i, now() - interval '200 days' FROM generate_series(1, 2500) i;
                INSERT INTO events SELECT 'old-' || i, now() - interval '150 days' - i * interval '1 minute' FROM generate_series(1, 700) i;
                INSERT INTO events SELECT 'new-' || i, now() - i * interval '1 minute' FROM generate_series(1, 300) i;
                """)
            let policy = RetentionDeletePolicy(database: "app", table: "events", column: "created_at", keepDays: 90, batchSize: 100)
            let report = try await BatchedDeleter(policy: policy, logger: Harness.logger).run(on: connection, dryRun: false)
            #expect(report.rows == 3200)
            #expect(report.walk == "index events_created_idx")
            let left: Int = try await connection.query("SELECT count(*) AS n FROM events WHERE source LIKE 'new-%'").first!.decode("n")
            let all: Int = try await connection.query("SELECT count(*) AS n FROM events").first!.decode("n")
            #expect(left == 300 && all == 300)
        }
    }
}
