@testable import Database
import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Kinds
@testable import OrchestratorWeb
import PostgresClient
@testable import Queue
@testable import Settings
import TestSupport
import Testing

/// `/maintenance` and `/api/maintenance`: per table, what vacuum, analyze, retention and reindex
/// runs recorded, read from `job_runs.result`.
@Suite("Dashboard maintenance page", .serialized)
struct DashboardMaintenancePageTests {
    static func json(_ client: any TestClientProtocol, _ uri: String = "/api/maintenance") async throws -> [[String: Any]] {
        try await client.execute(uri: uri, method: .get) { response in
            #expect(response.status == .ok, "\(uri)")
            let json = try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
            return try #require(json["tables"] as? [[String: Any]])
        }
    }

    static func page(_ client: any TestClientProtocol, _ uri: String = "/maintenance") async throws -> String {
        try await client.execute(uri: uri, method: .get) { response in
            #expect(response.status == .ok, "\(uri)")
            return response.text
        }
    }

    static func events(_ table: [String: Any]?) throws -> [[String: Any]] {
        try #require(table?["events"] as? [[String: Any]])
    }

    static func int(_ value: Any?) -> Int64? {
        (value as? NSNumber)?.int64Value
    }

    /// The real kinds over a `trades` table in the test's own database (configured as `app`):
    /// VACUUM after deleting half the rows, REINDEX, then a retention delete of the old rows.
    @Test func realVacuumReindexAndRetentionRunsShowUnderTheirTable() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            _ = try await Migrator(directory: Harness.migrationsDirectory).migrate(connection, appliedBy: "tests", logger: Harness.logger)
            try await connection.execute("""
                CREATE TABLE trades (id bigserial PRIMARY KEY, symbol text NOT NULL, created_at timestamptz NOT NULL) WITH (autovacuum_enabled = false);
                INSERT INTO trades (symbol, created_at) SELECT 'SYM', now() - CASE WHEN i <= 3000 THEN interval '200 days' ELSE interval '1 day' END
                FROM generate_series(1, 20000) i;
                DELETE FROM trades WHERE id % 2 = 0;
                """)
            let policy = RetentionDeletePolicy(database: "app", table: "trades", column: "created_at", keepDays: 90, batchSize: 500, sleepMs: 0)
            let harness = Harness(
                database: database,
                connector: DatabaseConnector(orchestrator: database.configuration, environment: ProcessInfo.processInfo.environment),
                configuration: Configuration(databases: ["app": TargetDatabase(dbname: database.name)], retention: ["old-trades": policy])
            )
            try await expectEventually(timeout: .seconds(10)) {
                try await connection.query("SELECT pg_stat_clear_snapshot()")
                let dead: Int64 = try await connection.query("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'trades'").first?.decode("n_dead_tup") ?? 0
                return dead >= 10000
            }
            let vacuum = try await harness.enqueue(["table": "public.trades"], kind: "vacuum", target: "app", on: connection)
            try await harness.worker(drain: true).run()
            let reindex = try await harness.enqueue(["table": "trades"], kind: "reindex", target: "app", on: connection)
            try await harness.worker(drain: true).run()
            let retention = try await harness.enqueue(kind: "retention", target: "old-trades", on: connection)
            try await harness.worker(drain: true).run()
            for id in [vacuum, reindex, retention] { #expect(try await harness.state(of: id, on: connection) == "succeeded") }

            // The kinds' results carry what the page needs: the index's table, the policy's database.
            let reindexResult = try #require(try await JobQueue.runs(jobID: reindex, on: connection).last?.result)
            #expect(reindexResult.jsonText.contains(#""index":"public.trades_pkey""#) && reindexResult.jsonText.contains(#""table":"public.trades""#))
            let retentionResult = try #require(try await JobQueue.runs(jobID: retention, on: connection).last?.result)
            #expect(retentionResult.jsonText.contains(#""database":"app""#))

            try await DashboardFixture.test(harness) { client in
                let tables = try await Self.json(client)
                #expect(tables.map { "\($0["database"]!) \($0["table"]!)" } == ["app public.trades"])
                let events = try Self.events(tables.first)
                #expect(events.map { $0["kind"] as? String } == ["retention", "reindex", "vacuum"])
                #expect(events.map { Self.int($0["job_id"]) } == [retention, reindex, vacuum])
                let vacuumed = events[2], rebuilt = events[1], deleted = events[0]
                let deadBefore = try #require(Self.int(vacuumed["dead_tuples_before"]))
                #expect(deadBefore >= 10000)
                #expect(Self.int(vacuumed["dead_tuples_after"]) == 0)
                #expect(vacuumed["operation"] as? String == "VACUUM")
                #expect(rebuilt["index"] as? String == "public.trades_pkey")
                let indexBefore = try #require(Self.int(rebuilt["index_bytes_before"]))
                let indexAfter = try #require(Self.int(rebuilt["index_bytes_after"]))
                #expect(indexBefore > 0 && indexAfter > 0 && indexAfter <= indexBefore)
                #expect(Self.int(deleted["rows_deleted"]) == 1500)  // the old rows left after the odd ids
                #expect(deleted["operation"] as? String == "old-trades")

                let page = try await Self.page(client)
                #expect(page.contains("<h2>public.trades <span class=\"note\">in app</span></h2>"))
                #expect(page.contains("<td><a href=\"/jobs/\(vacuum)\">\(vacuum)</a></td>"))
                #expect(page.contains("<td>vacuum</td><td>VACUUM</td><td>succeeded</td><td>\(deadBefore)</td><td>0</td>"))
                #expect(page.contains("<td>retention</td><td>old-trades</td><td>succeeded</td><td>–</td><td>–</td><td>–</td><td>1500</td>"))
                #expect(page.contains("<td>public.trades_pkey</td><td>\(DisplayText.bytes(Double(indexBefore))) → \(DisplayText.bytes(Double(indexAfter)))</td>"))
            }
        }
    }

    /// Stored results, as older and newer runs wrote them, with hostile names.
    @Test func storedResultsAreGroupedPerTableNewestFirstAndHostileNamesStayText() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let hostile = DashboardFixture.hostile
            // A finished job and its one run, closed with the result (closed runs are never rewritten).
            func job(_ kind: String, target: String?, daysAgo: Double, state: String = "succeeded", result: String) async throws -> Int64 {
                try await connection.query(
                    """
                    WITH job AS (
                        INSERT INTO orchestrator.jobs (kind, target, state, attempts, enqueued_by, created_at, started_at, finished_at)
                        SELECT $1::text, $2::text, $3::text, 1, 'tests', t - interval '1 minute', t - interval '1 minute', t
                        FROM (SELECT now() - make_interval(secs => $4::float8) AS t) f RETURNING id, started_at, finished_at
                    )
                    INSERT INTO orchestrator.job_runs (job_id, attempt, worker_id, host, pid, started_at, finished_at, status, result)
                    SELECT id, 1, 'w', 'h', 1, started_at, finished_at, $3::text, $5::jsonb FROM job RETURNING job_id
                    """,
                    [kind, target, state, daysAgo * 86_400, result]
                ).first!.decode("job_id")
            }
            let first = try await job("vacuum", target: "app", daysAgo: 3, result: """
                {"command":"VACUUM (ANALYZE)","tables":[{"table":"public.orders","seconds":1.5,"dead_tuples_before":5000,"dead_tuples_after":10,"bytes_before":81920,"bytes_after":73728},
                 {"table":"\(hostile)","seconds":0.1,"dead_tuples_before":7,"dead_tuples_after":0,"bytes_before":8192,"bytes_after":8192}]}
                """)
            let second = try await job("vacuum", target: "app", daysAgo: 1, result: """
                {"command":"VACUUM","tables":[{"table":"public.orders","seconds":2,"dead_tuples_before":9000,"dead_tuples_after":0,"bytes_before":90112,"bytes_after":81920}]}
                """)
            // A reindex run from before the table was recorded: the index stands in for it.
            let oldReindex = try await job("reindex", target: "app", daysAgo: 2, result: """
                {"indexes":[{"index":"public.orders_pkey","seconds":0.5,"bytes_before":2097152,"bytes_after":1048576}]}
                """)
            let failedRetention = try await job("retention", target: nil, daysAgo: 0.5, state: "failed", result: """
                {"dry_run":false,"policies":[{"policy":"\(hostile)","table":"orders","status":"failed","error":"boom","rows_deleted":250,"batches":1}]}
                """)
            try await HistoryFixtures(connection: connection).job("noop", state: "succeeded", daysAgo: 0.1)
            try await DashboardFixture.test(harness) { client in
                let tables = try await Self.json(client)
                // A policy's unqualified table is public's; without a recorded database the
                // configured policy's is used, and an unknown policy has none.
                #expect(tables.map { "\($0["database"]!)|\($0["table"]!)" } == ["|public.orders", "app|\(hostile)", "app|public.orders", "app|public.orders_pkey"])
                #expect(try Self.events(tables[0]).map { Self.int($0["rows_deleted"]) } == [250])
                #expect(try Self.events(tables[0]).map { $0["status"] as? String } == ["failed"])
                #expect(try Self.events(tables[2]).map { Self.int($0["job_id"]) } == [second, first])
                #expect(try Self.events(tables[2]).map { Self.int($0["dead_tuples_before"]) } == [9000, 5000])
                #expect(try Self.events(tables[3]).map { Self.int($0["index_bytes_before"]) } == [2_097_152])
                #expect(try Self.events(tables[3]).first?["bytes_before"] == nil)
                #expect(try Self.events(tables[1]).map { Self.int($0["job_id"]) } == [first])
                #expect(Self.int(try Self.events(tables[0]).first?["job_id"]) == failedRetention)
                #expect(Self.int(try Self.events(tables[3]).first?["job_id"]) == oldReindex)

                let page = try await Self.page(client)
                #expect(!page.contains("<script"))
                #expect(page.contains("<h2>&lt;script&gt;alert(1)&lt;/script&gt; <span class=\"note\">in app</span></h2>"))
                #expect(page.contains("<td>retention</td><td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>failed</td>"))
                #expect(page.contains("<tr class=\"critical\"><td><a href=\"/jobs/\(failedRetention)\">"))
                #expect(page.contains("<td>9000</td><td>0</td><td>88.0 KiB → 80.0 KiB</td>"))
                #expect(page.contains("<td>public.orders_pkey</td><td>2.0 MiB → 1.0 MiB</td>"))
                // Two vacuums of public.orders: dead tuples before and after, drawn.
                #expect(page.components(separatedBy: "<svg class=\"chart\"").count - 1 == 1)
                #expect(page.contains("<title>dead tuples before and after each vacuum of public.orders</title>"))
                #expect(page.contains("<polyline class=\"line s0\"") && page.contains("<polyline class=\"line s1\""))
                #expect(page.contains(">dead before</text>") && page.contains(">9000</text>"))

                // `limit` bounds the jobs read per kind: only the newest vacuum.
                let limited = try await Self.json(client, "/api/maintenance?limit=1")
                let orders = limited.first { $0["database"] as? String == "app" && $0["table"] as? String == "public.orders" }
                #expect(try Self.events(orders).map { Self.int($0["job_id"]) } == [second])
                #expect(!limited.contains { $0["table"] as? String == hostile })
            }
        }
    }

    @Test func badParametersAreRefusedAndAnEmptyHistorySaysWhatFillsIt() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            try await DashboardFixture.test(harness) { client in
                for path in ["/maintenance", "/api/maintenance"] {
                    for query in ["?limit=0", "?limit=201", "?limit=abc", "?limit=%3Cscript%3E"] {
                        try await client.execute(uri: path + query, method: .get) { response in
                            #expect(response.status == .badRequest, "\(path)\(query)")
                            #expect(!response.text.contains("<script"))
                        }
                    }
                }
                #expect(try await Self.json(client).isEmpty)
                let page = try await Self.page(client)
                #expect(page.contains("No maintenance run recorded yet."))
                #expect(page.contains(DashboardPagesTests.navigation))
            }
        }
    }
}
