import Alerts
import Foundation
import Mustache

/// `/alerts`: the episodes firing now, then the recently resolved ones, each with what was sent
/// through which channel. Every string is HTML-escaped by the template (`{{…}}`); none is
/// inserted raw.
struct AlertsPage {
    struct Delivery { let channel: String; let event: String; let status: String; let level: String; let sent: String; let error: String; let hasError: Bool }
    struct Alert {
        let id: Int64; let severity: String; let alert: String; let host: String; let summary: String
        let since: String; let firedAt: String; let value: String; let resolved: String
        let deliveries: [Delivery]; let hasDeliveries: Bool
    }

    let firing: [Alert]
    let resolved: [Alert]
    let hasFiring: Bool
    let hasResolved: Bool
    let showsFiring: Bool
    let showsResolved: Bool
    let states: [JobsPage.Choice]
    let severities: [JobsPage.Choice]
    let limit: Int
    let level: String
    let verdict: String
    let generatedAt: String

    init(_ view: AlertsView, query: AlertsQuery) {
        let now = view.generatedAt
        let alert = { (episode: AlertsView.Episode) -> Alert in
            let record = episode.alert
            var value = DisplayText.value(record.value, unit: nil)
            if let threshold = record.threshold { value += " (threshold \(DisplayText.value(threshold, unit: nil)))" }
            let deliveries = episode.deliveries.map { delivery in
                Delivery(channel: delivery.channel, event: delivery.event,
                         status: delivery.delivered ? "delivered" : "not delivered after \(delivery.attempts) attempt\(delivery.attempts == 1 ? "" : "s")",
                         level: delivery.delivered ? "ok" : "critical", sent: DisplayText.ago(delivery.sentAt, now: now),
                         error: JobsPage.firstLine(delivery.error), hasError: delivery.error != nil)
            }
            var resolved = ""
            if let at = record.resolvedAt { resolved = DisplayText.ago(at, now: now) + (record.resolveReason.map { ": \($0)" } ?? "") }
            return Alert(id: record.id, severity: record.severity, alert: record.subject.isEmpty ? record.rule : "\(record.rule): \(record.subject)",
                         host: record.host.isEmpty ? "–" : record.host, summary: record.summary, since: DisplayText.ago(record.firedAt, now: now),
                         firedAt: DisplayText.time(record.firedAt), value: value, resolved: resolved,
                         deliveries: deliveries, hasDeliveries: !deliveries.isEmpty)
        }
        firing = view.firing.map(alert)
        resolved = view.resolved.map(alert)
        hasFiring = !firing.isEmpty
        hasResolved = !resolved.isEmpty
        showsFiring = query.includesFiring
        showsResolved = query.includesResolved
        let any = JobsPage.Choice(value: "", label: "any", selected: false)
        states = [any] + AlertsQuery.State.allCases.map { JobsPage.Choice(value: $0.rawValue, label: $0.rawValue, selected: $0 == query.state) }
        severities = [any] + AlertRecord.Severity.allCases.map { JobsPage.Choice(value: $0.rawValue, label: $0.rawValue, selected: $0 == query.severity) }
        limit = query.limit
        let critical = view.firing.contains { $0.alert.severity == "critical" }
        level = critical ? "critical" : (view.firing.isEmpty ? "ok" : "warning")
        verdict = view.firing.isEmpty ? (query.includesFiring ? "nothing firing" : "") : "\(view.firing.count) firing"
        generatedAt = DisplayText.time(now)
    }

    static let text = """
    \(PageLayout.head(title: "alerts"))
    <header class="top {{level}}"><h1>Alerts</h1><p class="verdict">{{verdict}}</p><p class="meta">{{generatedAt}}</p></header>
    <main>
    <section>
    <form class="filters" method="get" action="/alerts">
    <label>state <select name="state">{{#states}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/states}}</select></label>
    <label>severity <select name="severity">{{#severities}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/severities}}</select></label>
    <input type="hidden" name="limit" value="{{limit}}">
    <button type="submit">Filter</button>
    </form>
    </section>
    {{#showsFiring}}<section>
    <h2>Firing</h2>
    {{#firing}}<article class="alert {{severity}}">
    <h3><span class="badge {{severity}}">{{severity}}</span>{{alert}}</h3>
    <p>{{summary}}</p>
    <dl><dt>host</dt><dd>{{host}}</dd><dt>since</dt><dd>{{since}} ({{firedAt}})</dd><dt>last value</dt><dd>{{value}}</dd></dl>
    {{>deliveries}}
    </article>
    {{/firing}}
    {{^hasFiring}}<p>No alert is firing.</p>{{/hasFiring}}
    </section>{{/showsFiring}}
    {{#showsResolved}}<section>
    <h2>Resolved</h2>
    {{#resolved}}<article class="alert resolved">
    <h3><span class="badge {{severity}}">{{severity}}</span>{{alert}}</h3>
    <p>{{summary}}</p>
    <dl><dt>host</dt><dd>{{host}}</dd><dt>fired</dt><dd>{{since}} ({{firedAt}})</dd><dt>resolved</dt><dd>{{resolved}}</dd><dt>last value</dt><dd>{{value}}</dd></dl>
    {{>deliveries}}
    </article>
    {{/resolved}}
    {{^hasResolved}}<p>No resolved alert.</p>{{/hasResolved}}
    </section>{{/showsResolved}}
    </main>
    </body>
    </html>
    """

    /// Per alert: each message and its fate, by channel.
    static let deliveries = """
    {{#hasDeliveries}}<div class="scroll"><table><thead><tr><th>channel</th><th>event</th><th>status</th><th>sent</th><th>error</th></tr></thead><tbody>
    {{#deliveries}}<tr class="{{level}}"><td>{{channel}}</td><td>{{event}}</td><td>{{status}}</td><td>{{sent}}</td><td class="error">{{error}}</td></tr>
    {{/deliveries}}</tbody></table></div>{{/hasDeliveries}}
    {{^hasDeliveries}}<p class="note">No message sent.</p>{{/hasDeliveries}}
    """

    static let template: MustacheTemplate = try! MustacheTemplate(string: text.replacingOccurrences(of: "{{>deliveries}}", with: deliveries))
}
