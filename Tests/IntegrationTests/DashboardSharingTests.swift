import Foundation
@testable import OrchestratorWeb
import PostgresClient
import Synchronization
import Testing

/// How `orchestrator serve` shares its database: a small pool of sessions, and one read of the
/// overview or /metrics for all the requests that arrive together.
@Suite("Dashboard sharing")
struct DashboardSharingTests {
    @Test func concurrentCallersShareOneReadThenTheValueIsReadAgain() async throws {
        let reads = Atomic<Int>(0)
        let shared = CoalescedRead<Int>(freshFor: .milliseconds(300))
        let read: @Sendable () async throws -> Int = {
            let n = reads.add(1, ordering: .relaxed).newValue
            try await Task.sleep(for: .milliseconds(100))
            return n
        }
        let values = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 { group.addTask { try await shared.value(read) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(values == Array(repeating: 1, count: 20))
        #expect(reads.load(ordering: .relaxed) == 1)
        // Still fresh: served again without a read.
        #expect(try await shared.value(read) == 1)
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await shared.value(read) == 2)

        // A failure reaches every caller of that read and is not kept.
        struct Boom: Error {}
        let failing = CoalescedRead<Int>(freshFor: .seconds(60))
        await #expect(throws: Boom.self) { try await failing.value { throw Boom() } }
        #expect(try await failing.value { 7 } == 7)
    }

    @Test func thePoolOpensNoMoreSessionsThanItsLimitAndReplacesBrokenOnes() async throws {
        try await Harness.with { harness in
            let pool = DashboardDatabase(connector: harness.connector, maximumConnections: 2)
            defer { pool.close() }
            let observer = try await harness.connect()
            defer { observer.close() }
            // Six readers at once, each holding its session for a moment: two sessions serve them all.
            let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        try await pool.use { connection in
                            try await connection.query("SELECT pg_sleep(0.2), pg_backend_pid() AS pid").rows[0].decode("pid")
                        }
                    }
                }
                return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
            }
            #expect(pids.count == 2)
            let sessions = "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'orchestrator serve' AND datname = current_database()"
            let during: Int = try await observer.query(sessions).rows[0].decode("n")
            #expect(during == 2)

            // The server ends both sessions (a restart looks the same): a read fails at most
            // once per broken session, then the pool reconnects.
            try await observer.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'orchestrator serve' AND datname = current_database()")
            var failures = 0
            var answered = false
            for _ in 0..<3 where !answered {
                do {
                    _ = try await pool.use { try await $0.query("SELECT 1 AS one").rows[0].decode("one") as Int32 }
                    answered = true
                } catch let error as PostgresError where error.isConnectionProblem {
                    failures += 1
                }
            }
            #expect(answered)
            #expect(failures <= 2)
            let after: Int = try await observer.query(sessions).rows[0].decode("n")
            #expect(after <= 2)
        }
    }
}
