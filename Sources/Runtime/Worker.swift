import Backups
import Database
import Foundation
import Logging
import PostgresClient
import Queue
import ServiceLifecycle
import Settings
import Support
import Synchronization

/// The worker service: a dispatcher that claims jobs in batches, N slots that run them, a
/// recorder that writes their outcomes in batches, a listener that wakes the dispatcher on
/// NOTIFY, and three periodic loops, each on a connection of its own so none waits behind
/// another: the heartbeat (which renews leases), the reaper of dead workers' jobs, and the
/// scheduler. An idle worker sleeps in `poll()`/timers and costs almost nothing.
package final class Worker: Service, Sendable {
    package struct Options: Sendable {
        package var settings: WorkerSettings
        package var scheduler: SchedulerSettings
        /// Exit once nothing is runnable (no scheduler in this mode).
        package var drain: Bool
        package var retryBackoff: Backoff
        /// Where jobs' archive work runs; `orchestrator worker` isolates it in child processes.
        package var archiver: ArchiveRunner

        package init(
            settings: WorkerSettings, scheduler: SchedulerSettings, drain: Bool = false,
            retryBackoff: Backoff = Backoff(base: .seconds(10), cap: .seconds(3600)), archiver: ArchiveRunner = .inProcess
        ) {
            self.settings = settings
            self.scheduler = scheduler
            self.drain = drain
            self.retryBackoff = retryBackoff
            self.archiver = archiver
        }
    }

    package let identity: WorkerIdentity
    /// Shared queues from the settings plus this host's own `host:<hostname>` queue.
    package let queues: [String]
    /// Kinds claimed ahead of free slots (`JobKind.isShort`).
    let shortKinds: [String]
    let options: Options
    let configuration: Configuration
    let connector: DatabaseConnector
    let registry: JobKindRegistry
    let logger: Logger
    let doorbell = Doorbell()
    /// Rung when a job starts, to wake the timeout watch.
    let timeouts = Doorbell()
    let running = RunningJobs()
    /// Open once shutdown was asked for (`beginShutdown`).
    let shutdownRequested = Latch()
    private let shutdownAnnounced = Mutex(false)
    /// Open once the job service stops claiming.
    let stopping = Latch()

    package init(
        configuration: Configuration, options: Options, connector: DatabaseConnector,
        registry: JobKindRegistry, identity: WorkerIdentity = WorkerIdentity(), logger: Logger
    ) {
        self.configuration = configuration
        self.options = options
        self.connector = connector
        self.registry = registry
        self.identity = identity
        var queues = options.settings.queues
        let hostQueue = "host:\(identity.host)"
        if !queues.contains(hostQueue) { queues.append(hostQueue) }
        self.queues = queues
        self.shortKinds = registry.kinds.filter(\.isShort).map(\.name)
        var logger = logger
        logger[metadataKey: "worker.id"] = "\(identity.id)"
        self.logger = logger
    }

    package func run() async throws {
        let control = ConnectionHolder(connector: connector, logger: logger, purpose: "control")
        defer { control.close() }
        do {
            try await cancelWhenGracefulShutdown { try await self.register(control) }
        } catch is CancellationError {
            logger.info("worker stopped before it could register")
            return
        }
        logger.info("worker started", metadata: [
            "worker.queues": "\(queues.joined(separator: ","))", "worker.concurrency": "\(options.settings.concurrency)",
        ])
        await withGracefulShutdownHandler {
            await runLoops(control: control)
        } onGracefulShutdown: {
            // The worker's own service group follows the enclosing one's shutdown by itself;
            // opening `shutdownRequested` as well would end its first service in the middle of
            // that shutdown, which a service group takes for a crash and cancels everything.
            self.announceShutdown()
        }
        _ = try? await control.use { connection in
            try await connection.query("UPDATE orchestrator.workers SET stopped_at = now() WHERE id = $1", [self.identity.id])
        }
        logger.info("worker stopped")
    }

    /// Stop claiming; running jobs get the grace period, then are cancelled and released.
    /// The worker's loops stop in their `ServiceGroup`'s order (see `runLoops`).
    package func beginShutdown() {
        announceShutdown()
        shutdownRequested.open()
    }

    private func announceShutdown() {
        guard !shutdownAnnounced.withLock({ announced in defer { announced = true }; return announced }) else { return }
        logger.info("shutting down", metadata: ["grace.s": "\(options.settings.shutdownGraceSeconds)", "jobs.running": "\(running.ids.count)"])
    }

    /// The job service's part of shutdown: no more claims, waiting dispatchers wake up.
    func stopClaiming() {
        stopping.open()
        doorbell.close()
    }

    /// Retried until it gets through: a worker started while PostgreSQL restarts (or before it
    /// is up, at boot) waits for it instead of exiting. A retry after a lost reply finds its own
    /// row already there.
    private func register(_ control: ConnectionHolder) async throws {
        try await control.useRetrying("worker registration") { connection in
            try await connection.query(
                """
                INSERT INTO orchestrator.workers (id, host, pid, queues, concurrency, version)
                VALUES ($1, $2, $3, $4::text[], $5, $6)
                ON CONFLICT (id) DO NOTHING
                """,
                [identity.id, identity.host, Int(identity.pid), queues, options.settings.concurrency, OrchestratorVersion.current]
            )
        }
    }

    /// The loops are services of one `ServiceGroup`, which stops them in the reverse of the
    /// order below, each after the one before it has returned: the scheduler first (no new
    /// jobs); then the job service (dispatchers stop claiming, jobs waiting for a slot go back,
    /// running jobs finish within the grace period or are cancelled and released); then the
    /// recorder once every outcome is written; then the listener and the watches; then the
    /// reaper; the heartbeat last, so the leases of jobs still running are renewed until their
    /// outcomes are recorded. Shutdown starts when the enclosing service group shuts down, when
    /// `beginShutdown()` is called, or (`--drain`) when the job service runs out of work.
    private func runLoops(control: ConnectionHolder) async {
        let slots = max(1, options.settings.concurrency)
        let buffer = JobBuffer(slots: slots, prefetch: shortKinds.isEmpty ? 0 : options.settings.prefetch)
        let outcomes = ConnectionHolder(connector: connector, logger: logger, purpose: "outcomes")
        defer { outcomes.close() }
        let recorder = OutcomeRecorder(connection: outcomes, worker: identity, logger: logger) { [doorbell] in doorbell.ring() }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: WorkerService("shutdown request") { await self.shutdownRequested.wait() },
                  successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: WorkerService("heartbeat") { await self.heartbeatLoop(control: control) }),
            .init(service: WorkerService("reaper") { await self.reaperLoop() }),
            .init(service: WorkerService("watches") {
                await withTaskGroup(of: Void.self) { watches in
                    watches.addTask { await self.listenLoop() }
                    watches.addTask { await self.enforceShutdownGrace() }
                    watches.addTask { await self.timeoutLoop() }
                }
            }),
            .init(service: WorkerService("outcome recorder", stop: { recorder.close() }) { await recorder.run() }),
            .init(service: WorkerService("jobs", stop: { self.stopClaiming() }) {
                await self.runJobs(slots: slots, buffer: buffer, recorder: recorder)
            }, successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if schedulerEnabled {
            services.append(.init(service: WorkerService("scheduler") { await self.schedulerLoop() }))
        }
        // Last, so it stops first: pg_receivewal is stopped and the stream lock released while
        // the rest of the worker drains.
        if let stream = configuration.walStream, !options.drain {
            services.append(.init(service: WorkerService("wal stream") { await self.walStreamLoop(stream) }))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("worker loops ended with an error", metadata: ["error": "\(error)"])
        }
    }

    /// The dispatchers and the slots; returns once no job is running here any more.
    private func runJobs(slots: Int, buffer: JobBuffer, recorder: OutcomeRecorder) async {
        await withTaskGroup(of: Void.self) { work in
            for index in 0..<slots {
                work.addTask { await self.slotLoop(index: index, buffer: buffer, recorder: recorder) }
            }
            await withTaskGroup(of: Void.self) { dispatchers in
                for index in 0..<Self.dispatchers {
                    dispatchers.addTask { await self.dispatchLoop(index: index, buffer: buffer, recorder: recorder) }
                }
            }
            // No more claims: jobs still waiting for a slot go back to the queue, and idle slots
            // return.
            self.release(buffer.close(), recorder: recorder)
        }
    }

    private func enforceShutdownGrace() async {
        await stopping.wait()
        guard !Task.isCancelled else { return }
        try? await Task.sleep(for: .seconds(options.settings.shutdownGraceSeconds))
        guard !Task.isCancelled else { return }
        if !running.ids.isEmpty {
            logger.warning("grace period over; cancelling and releasing running jobs", metadata: ["jobs": "\(running.ids.sorted())"])
        }
        running.stopAll(reason: .shutdown)
    }
}
