import ArgumentParser
import Foundation
import Kinds
import PostgresClient
import Queue
import Runtime
import Support

struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Add a job to the queue and print its id.",
        discussion: "Examples:\n  orchestrator enqueue noop --arg ms=500\n  orchestrator enqueue sql refresh-stats --wait\nRun `orchestrator kinds` for every kind and its arguments, with their ranges and defaults."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Job kind (see `orchestrator kinds`).")
    var kind: String

    @Argument(help: "What the job acts on, when the kind takes a target.")
    var target: String?

    @Option(name: .customLong("arg"), help: "Argument as key=value; repeatable. An argument not given takes its default (`orchestrator kinds`).")
    var arguments: [String] = []

    // `.unconditional`: a value may start with '-' (`--at -10m`, `--priority -5`).
    @Option(parsing: .unconditional, help: "Run at or after TIME: ISO 8601 (2026-11-25T02:00:00Z) or relative (+90s, +10m, +2h, +1d, -10m); within 100 years.")
    var at: String?

    @Option(parsing: .unconditional, help: "Higher runs first (-1000...1000).")
    var priority = 0

    @Option(help: "Queue to put the job on (default: the kind's placement).")
    var queue: String?

    @Option(help: "Return the existing job instead of adding one while a job with this key is queued or running.")
    var uniqueKey: String?

    @Flag(help: "Wait for the job to finish; exit 1 if it failed or was cancelled.")
    var wait = false

    func run() async throws {
        // Bad option values are usage errors (64), found before the configuration is read.
        let runAt = try at.map { try Self.parseTime($0) }
        let environment = try global.environment()
        try await reportingErrors {
            let request = JobRequest(
                kind: kind, target: target, arguments: try JobRequest.parseArguments(arguments), queue: queue,
                priority: priority, runAt: runAt, uniqueKey: uniqueKey, enqueuedBy: HostInfo.userAtHost
            )
            let prepared = try JobKindRegistry.standard.prepare(request, configuration: environment.configuration, hostName: HostInfo.hostName)
            try await environment.withConnection { connection in
                let result = try await JobQueue.enqueue(prepared, on: connection)
                if !wait {
                    if global.json {
                        if let record = try await JobQueue.job(id: result.id, on: connection) { try Output.printJSON(record) }
                    } else {
                        print(result.existing ? "\(result.id) (already queued with unique key \(uniqueKey ?? ""))" : "\(result.id)")
                    }
                    return
                }
                if !global.json { FileHandle.standardError.write(Data("job \(result.id) enqueued; waiting...\n".utf8)) }
                let finished = try await JobQueue.waitUntilFinished(id: result.id, on: connection, poll: .milliseconds(250))
                if global.json {
                    try Output.printJSON(finished)
                } else {
                    print("\(finished.id) \(finished.state.rawValue)\(finished.lastError.map { ": \($0)" } ?? "")")
                }
                if finished.state != .succeeded { throw ExitCodes.failure }
            }
        }
    }

    /// The farthest `--at` may be from now, either way: beyond it is a typo, and far enough
    /// beyond it PostgreSQL cannot store the time at all.
    static let maxDistance: TimeInterval = 100 * 365.25 * 86400

    static func parseTime(_ text: String, now: Date = Date()) throws -> Date {
        let forms = "expected ISO 8601 with a zone (2026-11-25T02:00:00Z) or +N / -N followed by s, m, h or d (+10m, -1d), within 100 years of now"
        var date: Date?
        if let sign = text.first, sign == "+" || sign == "-", let unit = text.last,
           let multiplier = ["s": 1.0, "m": 60, "h": 3600, "d": 86400][unit] {
            let digits = text.dropFirst().dropLast()
            if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let amount = Double(digits), amount.isFinite {
                let seconds = amount * multiplier
                guard seconds <= maxDistance else { throw ValidationError("--at \(text.debugDescription) is more than 100 years away; \(forms)") }
                date = now.addingTimeInterval(sign == "+" ? seconds : -seconds)
            }
        } else {
            for style in [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()] {
                if let parsed = try? style.parse(text) { date = parsed; break }
            }
        }
        guard let date else { throw ValidationError("--at \(text.debugDescription): \(forms)") }
        guard abs(date.timeIntervalSince(now)) <= maxDistance else {
            throw ValidationError("--at \(text.debugDescription) is more than 100 years away; \(forms)")
        }
        return date
    }
}
