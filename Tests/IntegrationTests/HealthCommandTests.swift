@testable import Database
import Foundation
import PostgresClient
@testable import Support
import TestSupport
import Testing

/// `orchestrator health` as an operator runs it.
@Suite("Health command", .serialized)
struct HealthCommandTests {
    private func write(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("health-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func healthSamplesStoresAndPrintsJSON() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            _ = try await Migrator(directory: Harness.migrationsDirectory).migrate(connection, appliedBy: "tests", logger: Harness.logger)
            let config = try write("""
                databases:
                  app: {dbname: \(database.name)}
                health:
                  cpu_interval_ms: 100
                  mounts: [/, /no/such/mount]
                  sql:
                    one: {database: app, sql: SELECT 1}
                """)
            defer { try? FileManager.default.removeItem(atPath: config) }
            let cli = CommandLineTests()
            let environment = ["ORCHESTRATOR_DATABASE_URL": try database.url]

            let stored = try await cli.run(["health", "--config", config, "--json", "--log-level", "error"], environment: environment)
            #expect(stored.status == 0, "\(stored.stderr)")
            guard case .object(let report) = try JSONValue.parse(stored.stdout), case .int(let runID)? = report["run_id"],
                  case .object(let run)? = report["run"], case .array(let samples)? = run["samples"] else {
                Issue.record("unexpected output \(stored.stdout.prefix(500))")
                return
            }
            let failedMount = samples.first { $0 == .object([
                "category": .string("system"), "subject": .string("/no/such/mount"), "metric": .string("disk.used_percent"),
                "value": .null, "unit": .null, "status": .string("failed"),
                "message": .string("cannot measure /no/such/mount: No such file or directory"), "details": .object([:]),
            ]) }
            #expect(failedMount != nil)
            let rows = try await connection.query("SELECT count(*) AS n FROM orchestrator.health_samples WHERE run_id = $1", [runID])
            #expect(try rows.first!.decode("n", as: Int.self) == samples.count)

            let table = try await cli.run(["health", "--config", config, "--no-store", "--log-level", "error"], environment: environment)
            #expect(table.status == 0)
            #expect(table.stdout.contains("not stored"))
            #expect(table.stdout.contains("check     one"))
            #expect(table.stdout.split(separator: "\n").contains { $0.contains("/no/such/mount") && $0.contains("failed") && $0.contains("No such file") })
            let runs = try await connection.query("SELECT count(*) AS n FROM orchestrator.health_runs")
            #expect(try runs.first!.decode("n", as: Int.self) == 1)  // --no-store wrote nothing
        }
    }
}
