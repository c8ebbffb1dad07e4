import ArgumentParser
import Kinds
import Logging
import Runtime
import ServiceLifecycle
import Settings

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker: claim and run jobs, run the scheduler, until SIGTERM or SIGINT."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Jobs run at once (default: worker.concurrency from the configuration).")
    var concurrency: Int?

    @Option(help: "Comma-separated shared queues to serve (default: worker.queues); this host's queue is always served.")
    var queues: String?

    @Flag(help: "Exit when nothing is runnable (no scheduler in this mode).")
    var drain = false

    func validate() throws {
        if let concurrency, !(1...64).contains(concurrency) {
            throw ValidationError("--concurrency must be 1...64")
        }
    }

    func run() async throws {
        let environment = try global.environment()
        var settings = environment.configuration.worker
        if let concurrency { settings.concurrency = concurrency }
        if let queues {
            settings.queues = queues.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for queue in settings.queues where !QueueName.isValid(queue) {
                throw ValidationError("--queues: \(queue.debugDescription) is not a valid queue name")
            }
        }
        let worker = Worker(
            configuration: environment.configuration,
            options: .init(settings: settings, scheduler: environment.configuration.scheduler, drain: drain, archiver: .isolated),
            connector: environment.connector, registry: .standard,
            logger: environment.logger
        )
        var groupConfiguration = ServiceGroupConfiguration(
            services: [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [.sigquit],
            logger: environment.logger
        )
        // The worker's own grace period comes first; this bound only catches a worker stuck
        // before it could start (e.g. still waiting for the database), so SIGTERM always ends it.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(settings.shutdownGraceSeconds + 10)
        let group = ServiceGroup(configuration: groupConfiguration)
        try await reportingErrors { try await group.run() }
    }
}

import Foundation
