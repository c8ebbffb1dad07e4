import Archiving
@testable import Backups
import BlockingWork
@testable import Database
import Foundation
@testable import History
@testable import Kinds
import PostgresClient
@testable import Queue
@testable import Runtime
@testable import Settings
@testable import Support
import Synchronization
import TestSupport
import Testing

/// Lease renewal must never wait behind job work for a thread: the worker's own connections run
/// in the executor's control lane, jobs in the jobs lane. Here the jobs lane has fewer threads
/// than the worker has slots, every slot is blocked in a long statement, a child wait or a
/// hashing step (or waits for a thread to block in one), and the heartbeat still renews every
/// lease on time.
@Suite("Heartbeat under blocking load", .serialized)
struct HeartbeatUnderLoadTests {
    static let settings = WorkerSettings(
        concurrency: 5, queues: ["default"], leaseSeconds: 3, heartbeatSeconds: 1, reaperSeconds: 1, pollSeconds: 1, shutdownGraceSeconds: 30
    )

    @Test func leasesAreRenewedOnTimeWhileEveryJobSlotIsBlocked() async throws {
        try await Harness.with { harness in
            // Six control connections here (no scheduler); three threads for five jobs.
            let executor = BlockingExecutor(controlThreads: 7, jobThreads: 3)
            var orchestrator = harness.database.configuration
            orchestrator.executor = executor
            let registry = JobKindRegistry(kinds: BlockingJob.kinds(executor: executor), isPermanent: FailurePolicy.isPermanent)
            let worker = Worker(
                configuration: harness.configuration, options: .init(settings: Self.settings, scheduler: SchedulerSettings(enabled: false)),
                connector: DatabaseConnector(orchestrator: orchestrator), registry: registry, logger: Harness.logger
            )
            // The test's own connection uses the shared executor, not the worker's.
            let connection = try await harness.connect()
            defer { connection.close() }
            var ids: [Int64] = []
            for kind in ["block-statement", "block-statement", "block-child", "block-child", "block-hash"] {
                let prepared = try registry.prepare(
                    JobRequest(kind: kind, arguments: ["seconds": "60"], enqueuedBy: "tests"), configuration: harness.configuration, hostName: HostInfo.hostName
                )
                ids.append(try await JobQueue.enqueue(prepared, on: connection).id)
            }

            try await running(worker) {
                // Every slot runs its job; three block the jobs lane's threads, the others wait for one.
                try await expectEventually(timeout: .seconds(30)) {
                    let running = try await harness.count("SELECT count(*)::int AS n FROM orchestrator.jobs WHERE state = 'running'", on: connection)
                    return running == 5 && executor.usage(of: .jobs) == .init(running: 3, waiting: 2)
                }
                // Three lease lengths: a renewal that waited for a job's thread would let leases expire.
                var reaped: [JobQueue.ReapedJob] = []
                var oldestBeat = 0.0
                var shortestLease = Double.infinity
                var laneFull = true
                var controlWaited = false
                let until = ContinuousClock.now + .seconds(9)
                while ContinuousClock.now < until {
                    reaped += try await JobQueue.reapExpiredLeases(on: connection)
                    let row = try #require(try await connection.query(
                        """
                        SELECT extract(epoch FROM now() - w.heartbeat_at)::float8 AS beat,
                               (SELECT extract(epoch FROM min(j.lease_until) - now())::float8 FROM orchestrator.jobs j
                                WHERE j.state = 'running') AS lease
                        FROM orchestrator.workers w
                        """
                    ).first)
                    oldestBeat = max(oldestBeat, try row.decode("beat"))
                    // No running job left would mean they were reaped: as bad as an expired lease.
                    shortestLease = min(shortestLease, try row.decodeIfPresent("lease", as: Double.self) ?? -.infinity)
                    laneFull = laneFull && executor.usage(of: .jobs) == .init(running: 3, waiting: 2)
                    controlWaited = controlWaited || executor.usage(of: .control).waiting > 0
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(laneFull, "the jobs lane stayed full with work waiting throughout")
                #expect(!controlWaited)
                #expect(reaped.isEmpty)
                // Renewed every second: never more than one beat late, never close to expiring.
                #expect(oldestBeat < 2.5, "heartbeat \(oldestBeat) s old")
                #expect(shortestLease > 0.5, "a lease had \(shortestLease) s left")

                // Cancels get through the full lane too (a cancel request needs none of its threads).
                for id in ids { _ = try await JobQueue.cancel(id: id, on: connection) }
                try await expectEventually(timeout: .seconds(30)) {
                    try await harness.count("SELECT count(*)::int AS n FROM orchestrator.jobs WHERE state = 'cancelled'", on: connection) == 5
                }
            }
            for id in ids {
                #expect(try await JobQueue.runs(jobID: id, on: connection).map(\.status) == [.cancelled])
            }
        }
    }
}

/// A job that blocks one thread of the jobs lane for `seconds` (or until cancelled), the way
/// long statements, child processes and archive steps do.
private struct BlockingJob: JobKind {
    let name: String
    let summary = "blocks a thread of the jobs lane (tests)"
    let target = TargetRule.none
    let defaultMaxAttempts = 1
    let defaultTimeoutSeconds = 3600
    let placement = Placement.shared
    let block: @Sendable (_ seconds: Int, _ context: JobContext) async throws -> Void

    struct Arguments: JobArguments {
        static let seconds = JobArgument.integer("seconds", 1...3600, default: 1, "how long to block")
        static let specs = [seconds.spec]
        var seconds: Int64

        init(_ values: ArgumentValues) throws(JobValidationError) {
            seconds = try values[Self.seconds]
        }
    }

    func validate(target: String?, arguments: Arguments, configuration: Configuration) throws(JobValidationError) -> String? {
        nil
    }

    func run(_ job: ClaimedJob, arguments: Arguments, context: JobContext) async throws -> [String: JSONValue] {
        try await block(Int(arguments.seconds), context)
        return [:]
    }

    static func kinds(executor: BlockingExecutor) -> [BlockingJob] {
        [
            // A statement on a job connection (the connector carries the executor).
            BlockingJob(name: "block-statement") { seconds, context in
                try await context.withOrchestratorDatabase { connection in
                    try Task.checkCancellation()
                    try await connection.query("SELECT pg_sleep($1)", [seconds])
                }
            },
            // A tool that runs a long time: its wait blocks a thread.
            BlockingJob(name: "block-child") { seconds, _ in
                _ = try await ChildProcess.run("/bin/sleep", [String(seconds)], killGrace: .milliseconds(200), executor: executor)
            },
            // Hashing, as a backup's verification does, file after file.
            BlockingJob(name: "block-hash") { seconds, _ in
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("hash-\(UUID().uuidString)").path
                try Data(repeating: 7, count: 1 << 16).write(to: URL(fileURLWithPath: file))
                defer { unlink(file) }
                let stop = StopFlag()
                try await withTaskCancellationHandler {
                    try await Archiver.run(on: executor) {
                        let deadline = ContinuousClock.now + .seconds(seconds)
                        while !stop.isRaised && ContinuousClock.now < deadline {
                            _ = try FileDigest.sha256(ofFileAt: file)
                            usleep(20_000)
                        }
                    }
                } onCancel: {
                    stop.raise()
                }
                try Task.checkCancellation()
            },
        ]
    }
}

private final class StopFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    func raise() { raised.store(true, ordering: .releasing) }
    var isRaised: Bool { raised.load(ordering: .acquiring) }
}
