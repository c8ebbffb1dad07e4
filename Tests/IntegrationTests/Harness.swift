@testable import Database
import Foundation
@testable import Kinds
import Logging
import PostgresClient
@testable import Queue
@testable import Runtime
@testable import Settings
@testable import Support
import TestSupport
import Testing

/// Shared set-up for queue and worker tests: a migrated database of its own, fast worker
/// timings, and helpers to enqueue and observe jobs.
struct Harness: Sendable {
    let database: TestDatabase
    let connector: DatabaseConnector
    let configuration: Configuration

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let migrationsDirectory = repositoryRoot.appendingPathComponent("migrations")
    static let binary = repositoryRoot.appendingPathComponent(".build/debug/orchestrator")

    static var logger: Logger {
        var logger = Logger(label: "orchestrator.tests")
        logger.logLevel = ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
        return logger
    }

    /// Fast timings so lease expiry and reaping happen within seconds.
    static let fastWorker = WorkerSettings(
        concurrency: 2, queues: ["default"], leaseSeconds: 5, heartbeatSeconds: 1, reaperSeconds: 1, pollSeconds: 1, shutdownGraceSeconds: 2
    )

    static func with<T: Sendable>(configuration: Configuration = Configuration(), _ body: (Harness) async throws -> T) async throws -> T {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            _ = try await Migrator(directory: migrationsDirectory).migrate(connection, appliedBy: "tests", logger: logger)
            let harness = Harness(
                database: database,
                connector: DatabaseConnector(orchestrator: database.configuration, environment: ProcessInfo.processInfo.environment),
                configuration: configuration
            )
            return try await body(harness)
        }
    }

    func connect() async throws -> PostgresConnection { try await database.connect() }

    func worker(
        concurrency: Int = 2, settings: WorkerSettings = Harness.fastWorker, drain: Bool = false,
        scheduler: SchedulerSettings = SchedulerSettings(enabled: false)
    ) -> Worker {
        var settings = settings
        settings.concurrency = concurrency
        return Worker(
            configuration: configuration,
            options: .init(settings: settings, scheduler: scheduler, drain: drain, retryBackoff: Backoff(base: .milliseconds(100), cap: .milliseconds(400))),
            connector: connector, registry: .standard,
            logger: Self.logger
        )
    }

    @discardableResult
    func enqueue(_ arguments: [String: String] = [:], kind: String = "noop", target: String? = nil, priority: Int = 0,
                 uniqueKey: String? = nil, runAt: Date? = nil, on connection: PostgresConnection) async throws -> Int64 {
        let prepared = try JobKindRegistry.standard.prepare(
            JobRequest(kind: kind, target: target, arguments: arguments, priority: priority, runAt: runAt, uniqueKey: uniqueKey, enqueuedBy: "tests"),
            configuration: configuration, hostName: HostInfo.hostName
        )
        return try await JobQueue.enqueue(prepared, on: connection).id
    }

    func state(of id: Int64, on connection: PostgresConnection) async throws -> String? {
        try await JobQueue.job(id: id, on: connection)?.state.rawValue
    }

    func count(_ sql: String, _ parameters: [(any PostgresEncodable)?] = [], on connection: PostgresConnection) async throws -> Int {
        try await connection.query(sql, parameters).first!.decode("n")
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration, interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}

/// Runs a worker in a child task for the duration of `body`, then shuts it down gracefully.
func running<T: Sendable>(_ worker: Worker, _ body: () async throws -> T) async throws -> T {
    let task = Task { try await worker.run() }
    do {
        let value = try await body()
        worker.beginShutdown()
        try await task.value
        return value
    } catch {
        worker.beginShutdown()
        _ = try? await task.value
        throw error
    }
}

/// Records an issue when `condition` does not hold within `timeout`.
func expectEventually(
    timeout: Duration, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
) async throws {
    if try await !eventually(timeout: timeout, condition) {
        Issue.record("condition not met within \(timeout)", sourceLocation: sourceLocation)
    }
}

/// Waits for a child process without `waitUntilExit`, which spins a run loop that a Swift
/// concurrency thread never services.
func exited(_ process: Process, timeout: Duration = .seconds(60)) async throws {
    let deadline = ContinuousClock.now + timeout
    while process.isRunning {
        guard ContinuousClock.now < deadline else { throw TestEnvironmentError("process \(process.processIdentifier) did not exit") }
        try await Task.sleep(for: .milliseconds(20))
    }
}
