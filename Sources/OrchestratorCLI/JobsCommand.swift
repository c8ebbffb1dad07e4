import ArgumentParser
import Foundation
import Queue

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List, inspect, cancel and retry jobs.",
        subcommands: [List.self, Show.self, Cancel.self, Retry.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Recent jobs, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only these states (comma-separated): \(JobState.allCases.map(\.rawValue).joined(separator: ", ")).")
        var state: String?
        @Option(help: "Only this kind.")
        var kind: String?
        @Option(help: "At most this many rows.")
        var limit = 50

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1...10000") }
            _ = try states
        }

        /// `--state` as job states; an unknown name is a usage error that lists the valid ones.
        var states: [JobState] {
            get throws {
                try (state?.split(separator: ",").map(String.init) ?? []).map { name in
                    guard let state = JobState(rawValue: name) else {
                        throw ValidationError("unknown state \(name.debugDescription); valid: \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return state
                }
            }
        }

        func run() async throws {
            let states = try states
            let environment = try global.environment()
            try await reportingErrors {
                try await environment.withConnection { connection in
                    let jobs = try await JobQueue.list(.init(states: states, kind: kind, limit: limit), on: connection)
                    if global.json { return try Output.printJSON(jobs) }
                    print(Output.table(
                        ["ID", "KIND", "TARGET", "STATE", "ATTEMPT", "QUEUE", "CREATED", "FINISHED", "ERROR"],
                        jobs.map { job in
                            ["\(job.id)", job.kind, job.target ?? "-", job.state.rawValue, "\(job.attempts)/\(job.maxAttempts)", job.queue,
                             Output.time(job.createdAt), Output.time(job.finishedAt), job.state == .succeeded ? "" : (job.lastError ?? "")]
                        },
                        maxWidth: 48
                    ))
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One job with every attempt, its result, error and log tail.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Job id.") var id: Int64

        struct Detail: Encodable {
            let job: JobRecord
            let runs: [RunRecord]
        }

        func run() async throws {
            let environment = try global.environment()
            try await reportingErrors {
                try await environment.withConnection { connection in
                    guard let job = try await JobQueue.job(id: id, on: connection) else {
                        printError("job \(id) not found")
                        throw ExitCodes.failure
                    }
                    let runs = try await JobQueue.runs(jobID: id, on: connection)
                    if global.json { return try Output.printJSON(Detail(job: job, runs: runs)) }
                    print("job \(job.id): \(job.kind)\(job.target.map { " \($0)" } ?? "") — \(job.state.rawValue)")
                    print("  args: \(job.args.jsonText)  queue: \(job.queue)  priority: \(job.priority)  attempts: \(job.attempts)/\(job.maxAttempts)  timeout: \(job.timeoutSeconds)s")
                    print("  enqueued by \(job.enqueuedBy) at \(Output.time(job.createdAt)); run at \(Output.time(job.runAt))")
                    if let key = job.concurrencyKey { print("  concurrency key: \(key)") }
                    if let schedule = job.scheduleName { print("  schedule: \(schedule) for \(Output.time(job.scheduledFor))") }
                    if let error = job.lastError { print("  last error: \(error)") }
                    for run in runs {
                        let duration = run.durationSeconds.map { String(format: "%.3fs", $0) } ?? "running"
                        print("\nattempt \(run.attempt) — \(run.status.rawValue) on \(run.host) (pid \(run.pid)\(run.backendPID.map { ", backend \($0)" } ?? "")) at \(Output.time(run.startedAt)), \(duration)")
                        if let result = run.result { print("  result: \(result.jsonText)") }
                        if let error = run.error { print("  error: \(error)") }
                        if let tail = run.logTail {
                            print("  log:")
                            for line in tail.split(separator: "\n") { print("    \(line)") }
                        }
                    }
                }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a queued job, or stop a running one within seconds.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Job id.") var id: Int64

        func run() async throws {
            let environment = try global.environment()
            try await reportingErrors {
                try await environment.withConnection { connection in
                    let result = try await JobQueue.cancel(id: id, on: connection)
                    let message: String
                    switch result {
                    case .cancelled: message = "job \(id) cancelled"
                    case .requested: message = "job \(id) is running; its worker was asked to stop it"
                    case .alreadyFinished(let state):
                        printError("job \(id) already finished (\(state.rawValue)); nothing to cancel")
                        throw ExitCodes.failure
                    case .notFound:
                        printError("job \(id) not found")
                        throw ExitCodes.failure
                    }
                    if global.json { try Output.printJSON(["id": "\(id)", "result": "\(result)"]) } else { print(message) }
                }
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "retry", abstract: "Queue a failed or cancelled job again, now.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Job id.") var id: Int64

        func run() async throws {
            let environment = try global.environment()
            try await reportingErrors {
                try await environment.withConnection { connection in
                    switch try await JobQueue.retry(id: id, on: connection) {
                    case .requeued:
                        if global.json { try Output.printJSON(["id": id]) } else { print("job \(id) queued again") }
                    case .notFinished(let state):
                        printError("job \(id) is \(state.rawValue); only failed or cancelled jobs can be retried")
                        throw ExitCodes.failure
                    case .notFound:
                        printError("job \(id) not found")
                        throw ExitCodes.failure
                    }
                }
            }
        }
    }
}
