import Logging
import Scheduling

extension Worker {
    /// Whether this worker ticks the scheduler: not when draining, nor without schedules (then
    /// it opens no connection for it).
    var schedulerEnabled: Bool {
        options.scheduler.enabled && !options.drain && !configuration.schedules.isEmpty
    }

    /// Scheduler ticks on a connection of their own. The first thing shutdown stops (no new
    /// jobs): a tick under way is cancelled, which rolls back the schedule it was deciding.
    func schedulerLoop() async {
        let connection = ConnectionHolder(connector: connector, logger: logger, purpose: "scheduler")
        defer { connection.close() }
        let scheduler = Scheduler(configuration: configuration, registry: registry, identity: identity, logger: logger)
        await every(.seconds(max(1, options.scheduler.tickSeconds)), "scheduler tick") {
            _ = try await connection.use { try await scheduler.tick(on: $0) }
        }
    }
}
