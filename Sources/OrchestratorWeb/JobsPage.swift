import Foundation
import Mustache
import Queue
import Scheduling

/// `/jobs`: recent jobs, newest first, with the filter form. Every string is HTML-escaped by
/// the template (`{{…}}`); none is inserted raw.
struct JobsPage {
    struct Job { let id: Int64; let kind: String; let target: String; let state: String; let attempts: String; let enqueued: String; let finished: String; let duration: String; let error: String }
    struct Choice { let value: String; let label: String; let selected: Bool }

    let jobs: [Job]
    let states: [Choice]
    let kinds: [Choice]
    let sinces: [Choice]
    let target: String
    let limit: Int
    let hasJobs: Bool
    let hasNext: Bool
    let next: String
    let generatedAt: String
    /// Shown on the first page only (no `before`), above the jobs.
    let schedules: ScheduleRows?

    init(_ records: [JobRecord], query: JobsQuery, kinds: [String], schedules: [ScheduleStatus]?, now: Date) {
        self.schedules = schedules.map { ScheduleRows($0, now: now) }
        jobs = records.map { job in
            Job(id: job.id, kind: job.kind, target: job.target ?? "–", state: job.state.rawValue, attempts: "\(job.attempts)/\(job.maxAttempts)",
                enqueued: DisplayText.ago(job.createdAt, now: now), finished: job.finishedAt.map { DisplayText.ago($0, now: now) } ?? "–",
                duration: Self.duration(job), error: job.state == .succeeded ? "" : Self.firstLine(job.lastError))
        }
        let any = Choice(value: "", label: "any", selected: false)
        states = [any] + JobState.allCases.map { Choice(value: $0.rawValue, label: $0.rawValue, selected: $0 == query.state) }
        self.kinds = [any] + kinds.map { Choice(value: $0, label: $0, selected: $0 == query.kind) }
        sinces = [Choice(value: "", label: "any time", selected: false)]
            + JobsQuery.sinceChoices.map { Choice(value: $0.name, label: "last \($0.name)", selected: $0.name == query.since) }
        target = query.target ?? ""
        limit = query.limit
        hasJobs = !records.isEmpty
        hasNext = records.count == query.limit
        next = records.last.map { query.linkQuery(beforeID: $0.id) } ?? ""
        generatedAt = DisplayText.time(now)
    }

    static func duration(_ job: JobRecord) -> String {
        guard let started = job.startedAt, let finished = job.finishedAt else { return "–" }
        return DisplayText.duration(finished.timeIntervalSince(started))
    }

    /// An error's first line, at most 200 characters.
    static func firstLine(_ text: String?) -> String {
        guard let line = text?.split(separator: "\n", omittingEmptySubsequences: true).first else { return "" }
        return line.count > 200 ? String(line.prefix(200)) + "…" : String(line)
    }

    static let text = """
    \(PageLayout.head(title: "jobs"))
    <header class="top ok"><h1>Jobs</h1><p class="meta">{{generatedAt}}</p></header>
    <main>
    <section>
    <form class="filters" method="get" action="/jobs">
    <label>state <select name="state">{{#states}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/states}}</select></label>
    <label>kind <select name="kind">{{#kinds}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/kinds}}</select></label>
    <label>target <input name="target" value="{{target}}" maxlength="1024"></label>
    <label>since <select name="since">{{#sinces}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/sinces}}</select></label>
    <input type="hidden" name="limit" value="{{limit}}">
    <button type="submit">Filter</button>
    </form>
    </section>
    \(ScheduleRows.fragment)
    <section>
    {{#hasJobs}}<div class="scroll"><table><thead><tr><th>id</th><th>kind</th><th>target</th><th>state</th><th>attempts</th><th>enqueued</th><th>finished</th><th>took</th><th>error</th></tr></thead><tbody>{{/hasJobs}}
    {{#jobs}}<tr class="{{state}}"><td><a href="/jobs/{{id}}">{{id}}</a></td><td>{{kind}}</td><td>{{target}}</td><td>{{state}}</td><td>{{attempts}}</td><td>{{enqueued}}</td><td>{{finished}}</td><td>{{duration}}</td><td class="error">{{error}}</td></tr>
    {{/jobs}}
    {{#hasJobs}}</tbody></table></div>{{/hasJobs}}
    {{^hasJobs}}<p>No job matches.</p>{{/hasJobs}}
    {{#hasNext}}<p class="pager"><a href="/jobs{{next}}">Older jobs</a></p>{{/hasNext}}
    </section>
    </main>
    </body>
    </html>
    """

    static let template = try! MustacheTemplate(string: text)
}

// The template reads each row's fields by name; without these lookups swift-mustache finds them
// through reflection (`Mirror`), which made rendering a page of 50 jobs cost several times its
// queries.
extension JobsPage.Job: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "id": id
        case "kind": kind
        case "target": target
        case "state": state
        case "attempts": attempts
        case "enqueued": enqueued
        case "finished": finished
        case "duration": duration
        case "error": error
        default: nil
        }
    }
}

extension JobsPage.Choice: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "value": value
        case "label": label
        case "selected": selected
        default: nil
        }
    }
}
