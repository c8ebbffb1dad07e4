import Foundation
import Mustache
import Queue

/// `/jobs/{id}`: one job with all its fields and every attempt, newest first. Every string is
/// HTML-escaped by the template (`{{…}}`); none is inserted raw.
struct JobDetailPage {
    struct Field { let name: String; let value: String }
    struct Run {
        let attempt: Int; let status: String; let worker: String; let host: String; let started: String; let finished: String; let duration: String
        let result: String; let error: String; let logTail: String
        let hasResult: Bool; let hasError: Bool; let hasLogTail: Bool
    }

    let id: Int64
    let kind: String
    let state: String
    let fields: [Field]
    let args: String
    let runs: [Run]
    let hasRuns: Bool
    /// Retry (failed, cancelled) or cancel (queued, running), when the dashboard has a token.
    let forms: [ActionForm]
    let hasForms: Bool
    /// The job could take an action, but without a token none is offered.
    let needsToken: Bool
    let actions: [Action]
    let hasActions: Bool

    struct ActionForm { let path: String; let label: String; let formToken: String }
    struct Action { let at: String; let actor: String; let action: String; let outcome: String; let level: String }

    /// The job and its runs as `/api/jobs/{id}` returns them.
    struct Detail: Encodable, Sendable {
        let job: JobRecord
        /// Newest attempt first.
        let runs: [RunRecord]
        /// What was done to it through the dashboard, newest first.
        let actions: [JobActionRecord]
    }

    init(_ detail: Detail, formToken: String?) {
        let job = detail.job
        id = job.id
        kind = job.kind
        state = job.state.rawValue
        let time = { (date: Date?) in date.map(DisplayText.time) ?? "–" }
        fields = [
            Field(name: "kind", value: job.kind), Field(name: "target", value: job.target ?? "–"), Field(name: "state", value: job.state.rawValue),
            Field(name: "queue", value: job.queue), Field(name: "priority", value: String(job.priority)),
            Field(name: "attempts", value: "\(job.attempts)/\(job.maxAttempts)"), Field(name: "timeout", value: "\(job.timeoutSeconds) s"),
            Field(name: "enqueued by", value: job.enqueuedBy), Field(name: "enqueued", value: time(job.createdAt)),
            Field(name: "run at", value: time(job.runAt)), Field(name: "started", value: time(job.startedAt)),
            Field(name: "finished", value: time(job.finishedAt)), Field(name: "took", value: JobsPage.duration(job)),
            Field(name: "locked by", value: job.lockedBy ?? "–"), Field(name: "lease until", value: time(job.leaseUntil)),
            Field(name: "concurrency key", value: job.concurrencyKey ?? "–"), Field(name: "unique key", value: job.uniqueKey ?? "–"),
            Field(name: "schedule", value: job.scheduleName.map { "\($0) for \(time(job.scheduledFor))" } ?? "–"),
            Field(name: "cancel requested", value: time(job.cancelRequestedAt)), Field(name: "last error", value: job.lastError ?? "–"),
        ]
        args = Self.pretty(job.args)
        runs = detail.runs.map { run in
            Run(attempt: run.attempt, status: run.status.rawValue, worker: run.workerID, host: run.host, started: time(run.startedAt),
                finished: time(run.finishedAt), duration: run.durationSeconds.map(DisplayText.duration) ?? "running",
                result: run.result.map { Self.pretty($0) } ?? "", error: run.error ?? "", logTail: run.logTail ?? "",
                hasResult: run.result != nil, hasError: run.error != nil, hasLogTail: !(run.logTail ?? "").isEmpty)
        }
        hasRuns = !runs.isEmpty
        var offered: [(action: String, label: String)] = []
        switch job.state {
        case .failed, .cancelled: offered.append(("retry", "Retry now"))
        case .queued, .running: offered.append(("cancel", "Cancel"))
        case .succeeded: break
        }
        forms = formToken.map { token in offered.map { ActionForm(path: "/jobs/\(job.id)/\($0.action)", label: $0.label, formToken: token) } } ?? []
        hasForms = !forms.isEmpty
        needsToken = formToken == nil && !offered.isEmpty
        actions = detail.actions.map { record in
            Action(at: time(record.at), actor: record.actor, action: record.action.rawValue, outcome: record.outcome, level: record.succeeded ? "ok" : "warning")
        }
        hasActions = !actions.isEmpty
    }

    static func pretty(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    static let text = """
    \(PageLayout.head(title: "job {{id}}"))
    <header class="top ok"><h1>Job {{id}}</h1><p class="verdict">{{kind}} · {{state}}</p></header>
    <main>
    <section>
    <h2>Job</h2>
    <dl>{{#fields}}<dt>{{name}}</dt><dd>{{value}}</dd>{{/fields}}</dl>
    <h2>Arguments</h2>
    <pre>{{args}}</pre>
    {{#hasForms}}<div class="actions">{{#forms}}<form method="post" action="{{path}}"><input type="hidden" name="form_token" value="{{formToken}}"><button type="submit">{{label}}</button></form>{{/forms}}</div>{{/hasForms}}
    {{#needsToken}}<p class="note">Retrying and cancelling from here need the dashboard's token (web.token_env or web.token_file).</p>{{/needsToken}}
    </section>
    {{#hasActions}}<section>
    <h2>Actions</h2>
    <div class="scroll"><table><thead><tr><th>when</th><th>who</th><th>action</th><th>outcome</th></tr></thead><tbody>
    {{#actions}}<tr class="{{level}}"><td>{{at}}</td><td>{{actor}}</td><td>{{action}}</td><td>{{outcome}}</td></tr>
    {{/actions}}</tbody></table></div>
    </section>{{/hasActions}}
    {{#runs}}<section class="run {{status}}">
    <h2>Attempt {{attempt}}: {{status}}</h2>
    <dl><dt>worker</dt><dd>{{worker}}</dd><dt>host</dt><dd>{{host}}</dd><dt>started</dt><dd>{{started}}</dd><dt>finished</dt><dd>{{finished}}</dd><dt>took</dt><dd>{{duration}}</dd></dl>
    {{#hasResult}}<h3>Result</h3><pre>{{result}}</pre>{{/hasResult}}
    {{#hasError}}<h3>Error</h3><pre class="error">{{error}}</pre>{{/hasError}}
    {{#hasLogTail}}<h3>Log tail</h3><pre>{{logTail}}</pre>{{/hasLogTail}}
    </section>
    {{/runs}}
    {{^hasRuns}}<section><p>No attempt yet.</p></section>{{/hasRuns}}
    </main>
    </body>
    </html>
    """

    static let template = try! MustacheTemplate(string: text)
}

/// The 404 page for a job id that is not a positive integer or names no job.
enum NotFoundPage {
    static let text = """
    \(PageLayout.head(title: "not found"))
    <header class="top warning"><h1>Not found</h1></header>
    <main><section><p>{{what}} does not exist. <a href="/jobs">All jobs</a></p></section></main>
    </body>
    </html>
    """

    static let template = try! MustacheTemplate(string: text)
}
