import Foundation
import PostgresClient
@testable import Queue
import TestSupport
import Testing

@Suite("Queue status")
struct QueueStatusTests {
    @Test func statusCountsUnfinishedJobsAndTheLastDaysFinishesOnly() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let fx = HistoryFixtures(connection: connection)
            try await fx.job("vacuum", target: "app", state: "succeeded", daysAgo: 0.1)
            try await fx.job("vacuum", target: "app", state: "failed", daysAgo: 0.5, runs: ["timed_out", "failed"])
            try await fx.job("vacuum", target: "app", state: "cancelled", daysAgo: 0.9)
            for _ in 0..<3 { try await fx.job("vacuum", target: "app", state: "succeeded", daysAgo: 30) }
            try await fx.job("vacuum", target: "app", state: "failed", daysAgo: 2)
            try await connection.query(
                """
                INSERT INTO orchestrator.jobs (kind, state, run_at, created_at, enqueued_by)
                SELECT 'noop', 'queued', now() + interval '1 hour', now() - interval '1 minute', 'tests' FROM generate_series(1, 2)
                """
            )
            let status = try await QueueStatus.load(on: connection)
            #expect(status.jobsByState == ["queued": 2, "running": 0])
            #expect(status.finishedLast24h == ["succeeded": 1, "failed": 1, "cancelled": 1])
            #expect(status.failedLast24h == 2)
            #expect(status.oldestQueuedAt != nil)
        }
    }
}
