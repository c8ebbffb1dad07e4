@testable import Database
import Foundation
@testable import Health
@testable import Kinds
@testable import Maintenance
import PostgresClient
@testable import Queue
@testable import Settings
@testable import Support
import TestSupport
import Testing

/// Every kind run as a role set up with exactly the statements of docs/least-privilege.sql
/// (which README.md shows verbatim), against application tables owned by another role.
@Suite("Least-privilege role", .serialized)
struct LeastPrivilegeTests {
    static let sqlFile = Harness.repositoryRoot.appendingPathComponent("docs/least-privilege.sql")

    /// The file with psql's variables filled in as `psql -v` does (`:"name"` is a quoted
    /// identifier), split where it connects to the application database.
    static func statements(role: String, orchestratorDB: String, appDB: String) throws -> (server: String, application: String) {
        var text = try String(contentsOf: sqlFile, encoding: .utf8)
        for (variable, value) in [("role", role), ("orchestrator_db", orchestratorDB), ("app_db", appDB)] {
            text = text.replacingOccurrences(of: ":\"\(variable)\"", with: try SQLIdentifier.quoted(value))
        }
        let parts = text.components(separatedBy: "\\connect \(try SQLIdentifier.quoted(appDB))\n")
        guard parts.count == 2 else { throw TestEnvironmentError("docs/least-privilege.sql must \\connect :\"app_db\" once") }
        return (parts[0], parts[1])
    }

    struct Setup: Sendable {
        let harness: Harness
        /// The superuser session that owns the application tables.
        let admin: PostgresConnection
        /// A session of the least-privilege role.
        let session: PostgresConnection
        let role: String
        let scratch: String
    }

    /// A migrated database (migrated by the role) with `trades` owned by the superuser: 300 old
    /// and 10 new rows; the role set up by the file; a configuration acting as that role.
    static func withRole<T: Sendable>(schedules: [ScheduleDefinition] = [], _ body: (Setup) async throws -> T) async throws -> T {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("least-privilege-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        return try await TestDatabase.with { database in
            let admin = try await database.connect()
            defer { admin.close() }
            try await admin.execute("""
                CREATE TABLE trades (id bigserial PRIMARY KEY, symbol text NOT NULL, created_at timestamptz NOT NULL);
                CREATE INDEX trades_created_at ON trades (created_at);
                INSERT INTO trades (symbol, created_at) SELECT 'OLD', now() - interval '100 days' - i * interval '1 minute' FROM generate_series(1, 300) i;
                INSERT INTO trades (symbol, created_at) SELECT 'NEW', now() - i * interval '1 minute' FROM generate_series(1, 10) i;
                """)
            let role = "orch_lp_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
            let sql = try statements(role: role, orchestratorDB: database.name, appDB: database.name)
            try await admin.execute(sql.server)
            do {
                try await admin.execute(sql.application)
                var asRole = database.configuration
                asRole.overrides.append((keyword: "user", value: role))
                let session = try await PostgresConnection.connect(asRole)
                defer { session.close() }
                _ = try await Migrator(directory: Harness.migrationsDirectory).migrate(session, appliedBy: "tests", logger: Harness.logger)
                let configuration = Configuration(
                    databases: ["app": TargetDatabase(dbname: database.name)],
                    statements: ["warn": NamedStatement(database: "app", sql: "DO $$ BEGIN RAISE WARNING 'careful: %', 42; END $$")],
                    schedules: schedules,
                    backups: BackupSettings(repository: scratch + "/repository", profiles: ["daily": BackupProfile(databases: ["app"])]),
                    retention: ["trades": RetentionDeletePolicy(database: "app", table: "trades", column: "created_at", keepDays: 90, batchSize: 100)],
                    health: HealthSettings(cpuIntervalMs: 100)
                )
                let harness = Harness(
                    database: database,
                    connector: DatabaseConnector(orchestrator: asRole, environment: ProcessInfo.processInfo.environment),
                    configuration: configuration
                )
                let value = try await body(Setup(harness: harness, admin: admin, session: session, role: role, scratch: scratch))
                try await admin.execute("DROP OWNED BY \(role); DROP ROLE \(role)")
                return value
            } catch {
                try? await admin.execute("DROP OWNED BY \(role); DROP ROLE \(role)")
                throw error
            }
        }
    }

    /// Runs one job to its end; returns it and its last run.
    static func run(_ setup: Setup, kind: String, target: String? = nil, _ arguments: [String: String] = [:]) async throws -> (job: JobRecord?, run: RunRecord?) {
        let id = try await setup.harness.enqueue(arguments, kind: kind, target: target, on: setup.session)
        try await setup.harness.worker(drain: true).run()
        return (try await JobQueue.job(id: id, on: setup.session), try await JobQueue.runs(jobID: id, on: setup.session).last)
    }

    static func field(_ result: JSONValue?, _ key: String) -> JSONValue? {
        guard case .object(let object)? = result else { return nil }
        return object[key]
    }

    @Test func theReadmeShowsExactlyTheStatementsTheTestsRun() throws {
        let readme = try String(contentsOf: Harness.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let sql = try String(contentsOf: Self.sqlFile, encoding: .utf8)
        #expect(readme.contains("```sql\n" + sql + "```\n"))
    }

    @Test func maintenanceOfTablesTheRoleDoesNotOwnIsReportedAndFailsWhenNothingWasDone() async throws {
        try await Self.withRole { setup in
            let expected = "role \(setup.role) may not VACUUM public.trades: on PostgreSQL 15 only its owner or the database's owner may (owner postgres)"
            let vacuum = try await Self.run(setup, kind: "vacuum", target: "app", ["table": "trades"])
            #expect(vacuum.job?.state == .failed)
            #expect(vacuum.job?.lastError?.hasPrefix("VACUUM did nothing: " + expected) == true, "\(vacuum.job?.lastError ?? "")")
            #expect(vacuum.job?.lastError?.contains("GRANT pg_maintain TO \"\(setup.role)\"") == true)
            #expect(vacuum.run?.logTail?.contains("table not permitted; skipped") == true)
            guard case .array(let refused)? = Self.field(vacuum.run?.result, "skipped_not_permitted") else {
                Issue.record("no skipped_not_permitted in \(String(describing: vacuum.run?.result))")
                return
            }
            #expect(refused == [.object(["table": .string("public.trades"), "reason": .string(expected + "; run this job as that role, or ALTER TABLE \"public\".\"trades\" OWNER TO \"\(setup.role)\" (PostgreSQL 17+: GRANT pg_maintain TO \"\(setup.role)\")")])])

            // The whole database: the orchestrator's own tables (the role owns them) are done,
            // the application's are listed as skipped; something was done, so it succeeds.
            let all = try await Self.run(setup, kind: "vacuum", target: "app")
            #expect(all.job?.state == .succeeded)
            #expect(all.run?.result?.jsonText.contains("\"table\":\"orchestrator.jobs\"") == true)
            #expect(all.run?.result?.jsonText.contains("may not VACUUM public.trades") == true)

            let analyze = try await Self.run(setup, kind: "analyze", target: "app", ["table": "trades"])
            #expect(analyze.job?.state == .failed)
            #expect(analyze.job?.lastError?.hasPrefix("ANALYZE did nothing: role \(setup.role) may not ANALYZE public.trades") == true, "\(analyze.job?.lastError ?? "")")

            // An invalid copy left by an interrupted concurrent rebuild: only the owner may drop it.
            await #expect(throws: PostgresError.self) {
                try await setup.admin.execute("CREATE UNIQUE INDEX CONCURRENTLY trades_symbol_ccnew ON trades (symbol)")
            }
            let reindex = try await Self.run(setup, kind: "reindex", target: "app", ["table": "trades"])
            #expect(reindex.run?.result?.jsonText.contains("\"leftovers_not_permitted\":[{\"index\":\"public.trades_symbol_ccnew\"") == true,
                    "\(String(describing: reindex.run?.result))")
            #expect(reindex.job?.state == .failed)
            #expect(reindex.job?.lastError?.hasPrefix("REINDEX did nothing: role \(setup.role) may not REINDEX public.trades: on PostgreSQL 15 only its owner may") == true,
                    "\(reindex.job?.lastError ?? "")")
            #expect(reindex.job?.lastError?.contains("permission denied") == false)
            #expect(reindex.job?.attempts == 1)  // permanent: a retry cannot help
        }
    }

    /// The catalog check lets the database's owner VACUUM, but the server still skips shared
    /// catalogs with only a WARNING: that warning counts as a skip too.
    @Test func aTableTheServerSkipsWithAWarningIsReportedAsSkipped() async throws {
        try await Self.withRole { setup in
            let database = try SQLIdentifier.quoted(setup.harness.database.name)
            try await setup.admin.execute("ALTER DATABASE \(database) OWNER TO \(setup.role)")
            let vacuum = try await Self.run(setup, kind: "vacuum", target: "app", ["table": "pg_catalog.pg_database"])
            try await setup.admin.execute("ALTER DATABASE \(database) OWNER TO CURRENT_USER")
            #expect(vacuum.job?.state == .failed)
            #expect(vacuum.job?.lastError?.hasPrefix("VACUUM did nothing: skipping \"pg_database\"") == true, "\(vacuum.job?.lastError ?? "")")
            #expect(vacuum.run?.logTail?.contains("server warning") == true, "\(vacuum.run?.logTail ?? "")")
        }
    }

    @Test func retentionBackupsRestoresHealthAndStatementsWorkWithTheListedGrants() async throws {
        try await Self.withRole { setup in
            let retention = try await Self.run(setup, kind: "retention", target: "trades")
            #expect(retention.job?.state == .succeeded, "\(retention.job?.lastError ?? "")")
            #expect(try await setup.harness.count("SELECT count(*) AS n FROM trades", on: setup.admin) == 10)
            guard case .array(let policies)? = Self.field(retention.run?.result, "policies"), let entry = policies.first else {
                Issue.record("no policies in \(String(describing: retention.run?.result))")
                return
            }
            #expect(Self.field(entry, "rows_deleted") == .int(300))
            #expect(Self.field(entry, "analyze_skipped")?.stringValue?.contains("may not ANALYZE public.trades") == true)

            // A server WARNING reaches the run's log tail and its result.
            let warned = try await Self.run(setup, kind: "sql", target: "warn")
            #expect(warned.job?.state == .succeeded)
            #expect(warned.run?.logTail?.contains("db.message=careful: 42") == true, "\(warned.run?.logTail ?? "")")
            #expect(Self.field(warned.run?.result, "server_warnings") == .array([.string("careful: 42")]))

            let health = try await Self.run(setup, kind: "health")
            #expect(health.job?.state == .succeeded, "\(health.job?.lastError ?? "")")
            #expect(health.run?.result?.jsonText.contains("pg.sessions_hidden") == false)

            let backup = try await Self.run(setup, kind: "backup", target: "daily")
            #expect(backup.job?.state == .succeeded, "\(backup.job?.lastError ?? "")")
            let drill = try await Self.run(setup, kind: "restore-drill", target: "latest", ["profile": "daily"])
            #expect(drill.job?.state == .succeeded, "\(drill.job?.lastError ?? "")")
            let restored = "orch_lp_restored_" + UUID().uuidString.prefix(8).lowercased()
            let restore = try await Self.run(setup, kind: "restore", target: "latest", ["database": restored])
            try await setup.admin.execute("DROP DATABASE IF EXISTS \(try SQLIdentifier.quoted(restored)) WITH (FORCE)")
            #expect(restore.job?.state == .succeeded, "\(restore.job?.lastError ?? "")")
        }
    }

    @Test func retentionWithoutDeleteNamesTheGrant() async throws {
        try await Self.withRole { setup in
            try await setup.admin.execute("REVOKE DELETE ON trades FROM \(setup.role)")
            let retention = try await Self.run(setup, kind: "retention", target: "trades")
            #expect(retention.job?.state == .failed)
            #expect(retention.job?.lastError == "role \(setup.role) lacks DELETE on public.trades (retention needs SELECT and DELETE): GRANT DELETE ON \"public\".\"trades\" TO \"\(setup.role)\"")
            #expect(try await setup.harness.count("SELECT count(*) AS n FROM trades", on: setup.admin) == 310)
        }
    }

    @Test func healthSeesOtherRolesTransactionsOnlyWithPgReadAllStats() async throws {
        try await Self.withRole { setup in
            let holder = try await setup.harness.database.connect()  // the superuser: another role
            defer { holder.close() }
            try await holder.execute("BEGIN")
            try await holder.query("SELECT count(*) FROM trades")
            try await Task.sleep(for: .milliseconds(200))
            let sampler = HealthSampler(configuration: setup.harness.configuration, connector: setup.harness.connector, logger: Harness.logger, hostName: "test-host")
            func sample(_ metric: String, in run: HealthRun) -> HealthSample? {
                run.samples.first { $0.subject == "app" && $0.metric == metric }
            }

            let seen = await sampler.sample(previous: [:])
            #expect(sample("pg.longest_transaction_seconds", in: seen)?.details["pid"] == .int(Int64(holder.backendPID)))
            #expect(sample("pg.sessions_hidden", in: seen)?.value == 0)
            #expect(sample("pg.sessions_hidden", in: seen)?.status == .ok)

            try await setup.admin.execute("REVOKE pg_read_all_stats FROM \(setup.role)")
            let blind = await sampler.sample(previous: [:])
            #expect(sample("pg.longest_transaction_seconds", in: blind)?.details["pid"] != .int(Int64(holder.backendPID)))
            let hidden = try #require(sample("pg.sessions_hidden", in: blind))
            #expect(hidden.status == .failed)
            #expect((hidden.value ?? 0) >= 1)
            #expect(hidden.message?.contains("GRANT pg_read_all_stats TO \"\(setup.role)\"") == true, "\(hidden.message ?? "")")
            #expect(blind.failed.contains { $0.metric == "pg.sessions_hidden" })
            try await holder.execute("ROLLBACK")
        }
    }

    @Test func configCheckNamesEachJobsMissingGrantAndPassesWithAll() async throws {
        let schedules = [
            ScheduleDefinition(name: "nightly", cron: "0 2 * * *", kind: "backup", target: "daily"),
            ScheduleDefinition(name: "health", cron: "*/5 * * * *", kind: "health"),
            ScheduleDefinition(name: "drill", cron: "0 4 1 * *", kind: "restore-drill", target: "latest", args: ["profile": "daily"]),
            ScheduleDefinition(name: "queue-vacuum", cron: "0 3 * * *", kind: "vacuum", target: "app", args: ["table": "orchestrator.jobs"]),
            ScheduleDefinition(name: "prune", cron: "0 1 * * *", kind: "retention"),
        ]
        try await Self.withRole(schedules: schedules) { setup in
            let configuration = setup.harness.configuration
            let connector = setup.harness.connector
            #expect(await DatabaseChecks.run(configuration: configuration, connector: connector).map(\.description) == [])

            let role = "\"\(setup.role)\""
            let cases: [(revoke: String, regrant: String, path: String, fix: String)] = [
                ("REVOKE pg_read_all_stats FROM \(role)", "GRANT pg_read_all_stats TO \(role)", "schedules.health (health)", "GRANT pg_read_all_stats TO \(role)"),
                ("REVOKE pg_read_all_data FROM \(role)", "GRANT pg_read_all_data TO \(role)", "schedules.nightly (backup daily)", "GRANT pg_read_all_data TO \(role)"),
                ("ALTER ROLE \(role) NOCREATEDB", "ALTER ROLE \(role) CREATEDB", "schedules.drill (restore-drill latest)", "ALTER ROLE \(role) CREATEDB"),
                ("REVOKE DELETE ON trades FROM \(role)", "GRANT DELETE ON trades TO \(role)", "retention.trades", "GRANT DELETE ON \"public\".\"trades\" TO \(role)"),
            ]
            for (revoke, regrant, path, fix) in cases {
                try await setup.admin.execute(revoke)
                let problems = await DatabaseChecks.run(configuration: configuration, connector: connector).map(\.description)
                #expect(problems.count == 1, "\(revoke): \(problems)")
                #expect(problems.first?.hasPrefix(path + ": ") == true, "\(problems)")
                #expect(problems.first?.hasSuffix(fix) == true, "\(problems)")
                try await setup.admin.execute(regrant)
            }

            var maintenance = configuration
            maintenance.schedules.append(ScheduleDefinition(name: "app-vacuum", cron: "0 3 * * *", kind: "vacuum", target: "app", args: ["table": "trades"]))
            let problems = await DatabaseChecks.run(configuration: maintenance, connector: connector).map(\.description)
            #expect(problems.count == 1)
            #expect(problems.first?.hasPrefix("schedules.app-vacuum (vacuum app): database app: role \(setup.role) may not VACUUM public.trades") == true, "\(problems)")
        }
    }

    @Test func configCheckOnTheCommandLineNamesTheJobAndTheGrant() async throws {
        try await Self.withRole { setup in
            let file = setup.scratch + "/orchestrator.yaml"
            try """
                databases:
                  app: {dbname: \(setup.harness.database.name)}
                schedules:
                  - {name: health, cron: "*/5 * * * *", kind: health}
                """.write(toFile: file, atomically: true, encoding: .utf8)
            var url = try #require(URLComponents(string: try setup.harness.database.url))
            url.queryItems = (url.queryItems ?? []).filter { $0.name != "user" } + [URLQueryItem(name: "user", value: setup.role)]
            let environment = ["ORCHESTRATOR_DATABASE_URL": try #require(url.string)]
            let passing = try await CommandLineTests().run(["config", "check", "--databases", "--config", file], environment: environment)
            #expect(passing.status == 0, "\(passing.stderr)")

            try await setup.admin.execute("REVOKE pg_read_all_stats FROM \(setup.role)")
            let failing = try await CommandLineTests().run(["config", "check", "--databases", "--config", file], environment: environment)
            #expect(failing.status == 78)
            #expect(failing.stderr.contains("schedules.health (health): database app: role \(setup.role) cannot see other roles' sessions"), "\(failing.stderr)")
            #expect(failing.stderr.contains("GRANT pg_read_all_stats TO \"\(setup.role)\""))
        }
    }
}
