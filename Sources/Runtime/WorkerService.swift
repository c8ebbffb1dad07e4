import ServiceLifecycle

/// One of the worker's loops as a service of the worker's `ServiceGroup`: it runs `body` and,
/// when its turn in the group's shutdown comes, either cancels it (`stop: nil`: periodic
/// loops, whose cancellation ends them between or inside a step) or calls `stop`, after which
/// `body` finishes its own work and returns (the job slots, the outcome recorder).
struct WorkerService: Service, CustomStringConvertible {
    let description: String
    let stop: (@Sendable () -> Void)?
    let body: @Sendable () async -> Void

    init(_ name: String, stop: (@Sendable () -> Void)? = nil, _ body: @escaping @Sendable () async -> Void) {
        self.description = name
        self.stop = stop
        self.body = body
    }

    func run() async throws {
        if let stop {
            await withGracefulShutdownHandler { await body() } onGracefulShutdown: { stop() }
        } else {
            try? await cancelWhenGracefulShutdown { await body() }
        }
    }
}
