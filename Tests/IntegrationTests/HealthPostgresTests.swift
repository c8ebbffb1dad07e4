@testable import Database
import Foundation
@testable import Health
import PostgresClient
@testable import Settings
import TestSupport
import Testing

/// The PostgreSQL sampler and SQL checks against a real server.
@Suite("Health sampling of PostgreSQL", .serialized)
struct HealthPostgresTests {
    /// A migrated test database configured as the application database `app`.
    static func withApp<T: Sendable>(health: HealthSettings = HealthSettings(cpuIntervalMs: 100),
                                     _ body: (Harness, PostgresConnection) async throws -> T) async throws -> T {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            _ = try await Migrator(directory: Harness.migrationsDirectory).migrate(connection, appliedBy: "tests", logger: Harness.logger)
            let harness = Harness(
                database: database,
                connector: DatabaseConnector(orchestrator: database.configuration, environment: ProcessInfo.processInfo.environment),
                configuration: Configuration(databases: ["app": TargetDatabase(dbname: database.name)], health: health)
            )
            return try await body(harness, connection)
        }
    }

    static func sampler(_ harness: Harness) -> HealthSampler {
        HealthSampler(configuration: harness.configuration, connector: harness.connector, logger: Harness.logger, hostName: "test-host")
    }

    static func sample(_ run: HealthRun, _ subject: String, _ metric: String) -> HealthSample? {
        run.samples.first { $0.subject == subject && $0.metric == metric }
    }

    @Test func deadTuplesTopNAndTheBiggestTablesAreRecorded() async throws {
        var health = HealthSettings(cpuIntervalMs: 100)
        health.deadTuplesTop = 1
        try await Self.withApp(health: health) { harness, connection in
            try await connection.execute("""
                CREATE TABLE trades (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = false);
                INSERT INTO trades SELECT i, repeat('x', 100) FROM generate_series(1, 20000) i;
                DELETE FROM trades WHERE id % 2 = 0;
                CREATE TABLE quiet (id int PRIMARY KEY) WITH (autovacuum_enabled = false);
                INSERT INTO quiet SELECT generate_series(1, 100);
                DELETE FROM quiet WHERE id <= 10;
                ANALYZE quiet;
                """)
            try await expectEventually(timeout: .seconds(10)) {
                try await connection.query("SELECT pg_stat_clear_snapshot()")
                return try await harness.count("SELECT n_dead_tup AS n FROM pg_stat_user_tables WHERE relname = 'trades'", on: connection) >= 10000
            }
            let run = await Self.sampler(harness).sample(previous: [:])
            let dead = try #require(Self.sample(run, "app/public.trades", "pg.table.dead_tuples"))
            #expect((dead.value ?? 0) >= 10000)
            #expect((Self.sample(run, "app/public.trades", "pg.table.dead_percent")?.value ?? 0) >= 49)
            #expect(Self.sample(run, "app/public.quiet", "pg.table.dead_tuples") == nil)  // top 1 only
            #expect((Self.sample(run, "app/public.trades", "pg.table.size_bytes")?.value ?? 0) > 1_000_000)
            #expect(Self.sample(run, "app/public.trades", "pg.table.vacuum_age_seconds")?.message == "never vacuumed")

            #expect(Self.sample(run, "app", "pg.up")?.value == 1)
            #expect((Self.sample(run, "app", "pg.size_bytes")?.value ?? 0) > 1_000_000)
            #expect((0...100).contains(try #require(Self.sample(run, "app", "pg.cache_hit_percent")?.value)))
            #expect((Self.sample(run, "app", "pg.xid_age")?.value ?? -1) >= 0)
            #expect(Self.sample(run, "app", "pg.oldest_table_xid_age")?.message?.isEmpty == false)
            #expect(Self.sample(run, "app", "pg.tps")?.status == .unknown)  // no previous sample
            let maximum = try #require(Self.sample(run, "server", "pg.max_connections")?.value)
            let used = try #require(Self.sample(run, "server", "pg.connections_used_percent")?.value)
            #expect(maximum >= 1 && used > 0 && used <= 100)
            #expect(Self.sample(run, "server", "pg.in_recovery")?.value == 0)
            #expect(Self.sample(run, "server", "pg.replicas")?.value == 0)
            #expect(run.databaseMs > 0)
            #expect(run.failed.isEmpty, "\(run.failed)")
        }
    }

    @Test func anIdleTransactionIsSeenWithoutItsLiterals() async throws {
        try await Self.withApp { harness, connection in
            let holder = try await harness.connect()
            defer { holder.close() }
            try await holder.execute("BEGIN")
            try await holder.query("SELECT 'hunter2' AS secret")
            try await Task.sleep(for: .milliseconds(200))
            let run = await Self.sampler(harness).sample(previous: [:])
            #expect(Self.sample(run, "app", "pg.idle_in_transaction")?.value == 1)
            #expect((Self.sample(run, "app", "pg.idle_in_transaction_longest_seconds")?.value ?? 0) >= 0.1)
            let longest = try #require(Self.sample(run, "app", "pg.longest_transaction_seconds"))
            #expect((longest.value ?? 0) >= 0.1)
            #expect(longest.details["pid"] == .int(Int64(holder.backendPID)))
            #expect(longest.details["state"] == .string("idle in transaction"))
            #expect(longest.details["query"] == .string("SELECT '…' AS secret"))
            #expect(!"\(run.samples)".contains("hunter2"))
            try await holder.execute("ROLLBACK")
        }
    }

    @Test func samplingConnectionsCarryTheStatementTimeout() async throws {
        var health = HealthSettings(cpuIntervalMs: 100)
        health.statementTimeoutMs = 1500
        try await Self.withApp(health: health) { harness, _ in
            let settings = try Self.sampler(harness).connectionSettings(for: TargetDatabase(dbname: harness.database.name))
            let connection = try await PostgresConnection.connect(settings)
            defer { connection.close() }
            #expect(try await connection.query("SHOW statement_timeout").first?.decode("statement_timeout") == "1500ms")
            #expect(settings.redactedParameters["connect_timeout"] == "10")
        }
    }

    @Test func aReplicationSlotIsRecordedWithTheWALItHolds() async throws {
        try await Self.withApp { harness, connection in
            let slot = "orch_test_\(UInt32.random(in: 0...UInt32.max))"
            try await connection.query("SELECT pg_create_physical_replication_slot($1, true)", [slot])
            do {
                let run = await Self.sampler(harness).sample(previous: [:])
                let active = try #require(Self.sample(run, "server/slot/\(slot)", "pg.slot_active"))
                #expect(active.value == 0)
                #expect(active.details["type"] == .string("physical"))
                #expect((Self.sample(run, "server/slot/\(slot)", "pg.slot_retained_bytes")?.value ?? -1) >= 0)
            } catch {
                Issue.record("\(error)")
            }
            try await connection.query("SELECT pg_drop_replication_slot($1)", [slot])
        }
    }

    @Test func sqlChecksReturnOneNumberReadOnlyWithinTheirTimeout() async throws {
        var health = HealthSettings(cpuIntervalMs: 100)
        health.sql = [
            "rows": SQLCheck(database: "app", sql: "SELECT count(*) FROM trades", unit: "rows"),
            "flag": SQLCheck(database: "app", sql: "SELECT count(*) > 0 FROM trades"),
            "writes": SQLCheck(database: "app", sql: "DELETE FROM trades RETURNING 1"),
            "two-columns": SQLCheck(database: "app", sql: "SELECT 1, 2"),
            "text": SQLCheck(database: "app", sql: "SELECT 'many'"),
            "slow": SQLCheck(database: "app", sql: "SELECT pg_sleep(5)", timeoutSeconds: 1),
            "broken": SQLCheck(database: "app", sql: "SELECT * FROM no_such_table"),
        ]
        try await Self.withApp(health: health) { harness, connection in
            try await connection.execute("CREATE TABLE trades (id int); INSERT INTO trades VALUES (1), (2), (3)")
            let run = await Self.sampler(harness).sample(previous: [:])
            func check(_ name: String) -> HealthSample? { Self.sample(run, name, "check.value") }
            #expect(check("rows")?.value == 3)
            #expect(check("rows")?.unit == "rows")
            #expect(check("flag")?.value == 1)
            #expect(check("writes")?.status == .failed)
            #expect(check("writes")?.message?.contains("read-only transaction") == true)
            #expect(try await harness.count("SELECT count(*) AS n FROM trades", on: connection) == 3)
            #expect(check("two-columns")?.message == "must return one row with one column, got 1 rows of 2 columns")
            #expect(check("text")?.message == "returned \"many\", expected a number")
            #expect(check("slow")?.message == "timed out after 1 s")
            #expect(check("broken")?.message?.hasPrefix("relation \"no_such_table\" does not exist") == true)
            #expect(run.samples.filter { $0.category == .check }.count == 7)
        }
    }

    @Test func anUnreachableDatabaseIsAFailedSampleNotACrash() async throws {
        var health = HealthSettings(cpuIntervalMs: 100)
        health.sql = ["gone-check": SQLCheck(database: "gone", sql: "SELECT 1")]
        try await Self.withApp(health: health) { harness, _ in
            var configuration = harness.configuration
            configuration.databases["gone"] = TargetDatabase(dbname: "orch_no_such_database")
            let sampler = HealthSampler(configuration: configuration, connector: harness.connector, logger: Harness.logger, hostName: "test-host")
            let run = await sampler.sample(previous: [:])
            let down = try #require(Self.sample(run, "gone", "pg.up"))
            #expect(down.value == 0)
            #expect(down.status == .failed)
            #expect(down.message?.contains("does not exist") == true)
            #expect(Self.sample(run, "gone-check", "check.value")?.status == .failed)
            #expect(Self.sample(run, "app", "pg.up")?.value == 1)  // the others are still sampled
            #expect(Self.sample(run, "host", "memory.used_percent")?.status == .ok)
        }
    }
}
