import Foundation
import Hummingbird
import PostgresClient
import Queue
import Settings
import Support

/// The dashboard's only writes: retry a failed job, cancel a queued or running one, enqueue a
/// backup or a drill of a profile. Each needs the token (`ActionActor`), goes through the same
/// queue calls as the command line, and is recorded in `orchestrator.web_actions` in the
/// transaction that made the change. A form post gets a 303 to the job's page (which lists the
/// actions and their outcome); a bearer call gets JSON.
extension Dashboard {
    enum ActionPath {
        static let jobActions: Set<String> = ["retry", "cancel"]
        static let profileActions: Set<String> = ["backup", "drill"]

        /// `/jobs/{id}/retry|cancel`, `/backups/{profile}/backup|drill`: the POSTs the method
        /// check lets through (to be authorized by the action itself).
        static func matches(_ path: String) -> Bool {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0].isEmpty, !parts[2].isEmpty else { return false }
            switch parts[1] {
            case "jobs": return jobActions.contains(String(parts[3]))
            case "backups": return profileActions.contains(String(parts[3]))
            default: return false
            }
        }
    }

    /// What an action answers: the outcome, or why it was refused.
    struct ActionReply: Encodable {
        let action: JobActionRecord.Action
        let jobID: Int64?
        let outcome: String
        let succeeded: Bool
        let actor: String
        let at: Date
        enum CodingKeys: String, CodingKey { case action, jobID = "job_id", outcome, succeeded, actor, at }
    }

    func addActionRoutes(to router: Router<DashboardContext>) {
        router.post("/jobs/{id}/retry") { request, context in
            try await jobAction(.retry, request: request, context: context, id: context.parameters.get("id"))
        }
        router.post("/jobs/{id}/cancel") { request, context in
            try await jobAction(.cancel, request: request, context: context, id: context.parameters.get("id"))
        }
        router.post("/backups/{profile}/backup") { request, context in
            try await profileAction(.enqueueBackup, request: request, context: context, profile: context.parameters.get("profile"))
        }
        router.post("/backups/{profile}/drill") { request, context in
            try await profileAction(.enqueueDrill, request: request, context: context, profile: context.parameters.get("profile"))
        }
    }

    private func jobAction(_ action: JobActionRecord.Action, request: Request, context: DashboardContext, id text: String?) async throws -> Response {
        let actor = try await ActionActor.authorize(request, client: context.clientAddress, token: token)
        guard let text, let id = Int64(text), id > 0 else { throw HTTPError(.badRequest, message: "invalid job id: expected a positive integer") }
        let (status, record) = try await write("a \(action.rawValue)") { connection -> (HTTPResponse.Status, JobActionRecord?) in
            let answer: (status: HTTPResponse.Status, outcome: String)?
            if action == .cancel {
                answer = Self.answer(try await JobQueue.cancel(id: id, on: connection))
            } else {
                answer = Self.answer(try await JobQueue.retry(id: id, on: connection))
            }
            guard let answer else { return (.notFound, nil) }
            let record = try await JobActionRecord.record(actor: actor.name, action: action, jobID: id, outcome: answer.outcome,
                                                          succeeded: answer.status.code < 300, on: connection)
            return (answer.status, record)
        }
        guard let record else { throw HTTPError(.notFound, message: "no job \(id)") }
        return try reply(record, status: status, actor: actor, back: "/jobs/\(id)")
    }

    /// Nil when there is no such job.
    static func answer(_ result: JobQueue.CancelResult) -> (status: HTTPResponse.Status, outcome: String)? {
        switch result {
        case .cancelled: return (.ok, "cancelled before it ran")
        case .requested: return (.accepted, "cancel requested; its worker stops it within seconds")
        case .alreadyFinished(let state): return (.conflict, "not cancelled: the job already finished (\(state.rawValue))")
        case .notFound: return nil
        }
    }

    static func answer(_ result: JobQueue.RetryResult) -> (status: HTTPResponse.Status, outcome: String)? {
        switch result {
        case .requeued: return (.ok, "queued again")
        case .notFinished(let state): return (.conflict, "not retried: the job is \(state.rawValue); only a failed or cancelled job can be retried")
        case .notFound: return nil
        }
    }

    private func profileAction(_ action: JobActionRecord.Action, request: Request, context: DashboardContext, profile raw: String?) async throws -> Response {
        let actor = try await ActionActor.authorize(request, client: context.clientAddress, token: token)
        let known = configuration.backups.profiles.keys.sorted()
        guard let profile = raw?.removingPercentEncoding, let settings = configuration.backups.profiles[profile] else {
            throw HTTPError(.notFound, message: "no such backup profile; configured profiles: \(known.isEmpty ? "none" : known.joined(separator: ", "))")
        }
        let jobRequest = Self.jobRequest(action, profile: profile, method: settings.method, enqueuedBy: actor.name)
        let prepared: PreparedJob
        do {
            prepared = try preparer.prepare(jobRequest, configuration: configuration, hostName: HostInfo.hostName)
        } catch {
            throw HTTPError(.unprocessableContent, message: "\(jobRequest.kind) \(profile) cannot be enqueued: \(error.message)")
        }
        let record = try await write("an enqueue") { connection in
            let result = try await JobQueue.enqueue(prepared, on: connection)
            let outcome = result.existing ? "already queued as job \(result.id)" : "enqueued \(prepared.kind) as job \(result.id)"
            return try await JobActionRecord.record(actor: actor.name, action: action, jobID: result.id, target: profile, outcome: outcome,
                                                    succeeded: true, on: connection)
        }
        return try reply(record, status: .created, actor: actor, back: record.jobID.map { "/jobs/\($0)" } ?? "/backups")
    }

    /// The same request `orchestrator enqueue` makes for the profile: a logical profile is
    /// backed up by `backup` and drilled by `restore-drill latest`, a physical one by
    /// `base-backup` and `pitr-drill`.
    static func jobRequest(_ action: JobActionRecord.Action, profile: String, method: BackupMethod, enqueuedBy: String) -> JobRequest {
        switch (action, method) {
        case (.enqueueDrill, .logical):
            return JobRequest(kind: "restore-drill", target: "latest", arguments: ["profile": profile], enqueuedBy: enqueuedBy)
        case (.enqueueDrill, .physical):
            return JobRequest(kind: "pitr-drill", target: profile, enqueuedBy: enqueuedBy)
        case (_, .physical):
            return JobRequest(kind: "base-backup", target: profile, enqueuedBy: enqueuedBy)
        default:
            return JobRequest(kind: "backup", target: profile, enqueuedBy: enqueuedBy)
        }
    }

    /// A browser goes back to the page that shows the outcome (a refusal is shown at once);
    /// a script gets the record as JSON.
    private func reply(_ record: JobActionRecord, status: HTTPResponse.Status, actor: ActionActor, back: String) throws -> Response {
        guard actor.proof == .session else {
            var response = try Self.json(ActionReply(action: record.action, jobID: record.jobID, outcome: record.outcome, succeeded: record.succeeded,
                                                     actor: record.actor, at: record.at)).response
            response.status = status
            return response
        }
        guard record.succeeded else {
            return Self.html(ActionRefusedPage.template.render(["outcome": record.outcome, "back": back]), status: status)
        }
        return Response(status: .seeOther, headers: [.location: back])
    }

    /// Writes in a transaction of its own; a database away is 503, like a page that cannot read.
    private func write<T: Sendable>(_ what: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            let result = try await database.transaction(body)
            // The pages a browser goes back to must show the change, not a copy from before it.
            pages.clear()
            return result
        } catch {
            logger.warning("cannot record \(what)", metadata: ["error": "\(error)"])
            throw HTTPError(.serviceUnavailable, message: "the orchestrator's database cannot be written")
        }
    }
}
