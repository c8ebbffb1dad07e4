import Foundation
import Mustache

/// `/health` without a metric: the newest value of every series, by category, each linking to
/// its chart. Every string is HTML-escaped by the template (`{{…}}`).
struct HealthPage {
    struct Row { let subject: String; let metric: String; let host: String; let value: String; let measured: String; let level: String; let link: String }
    struct Category { let name: String; let rows: [Row] }

    let categories: [Category]
    let hasMetrics: Bool
    let generatedAt: String

    init(_ view: HealthView) {
        let now = view.generatedAt
        var categories: [Category] = []
        for entry in view.metrics {
            let row = Row(subject: entry.subject, metric: entry.metric, host: entry.host,
                          value: entry.value.map { DisplayText.value($0, unit: entry.unit) } ?? "\(entry.status): \(JobsPage.firstLine(entry.message ?? "no value"))",
                          measured: DisplayText.ago(entry.takenAt, now: now) + (entry.current ? "" : ", no longer sampled"), level: entry.level.rawValue,
                          link: HealthQuery.chartLink(host: entry.host, metric: entry.metric, subject: entry.subject, range: .day))
            if categories.last?.name == entry.category {
                categories[categories.count - 1] = Category(name: entry.category, rows: categories[categories.count - 1].rows + [row])
            } else {
                categories.append(Category(name: entry.category, rows: [row]))
            }
        }
        self.categories = categories
        hasMetrics = !categories.isEmpty
        generatedAt = DisplayText.time(now)
    }

    static let text = """
    \(PageLayout.head(title: "health"))
    <header class="top ok"><h1>Health</h1><p class="meta">{{generatedAt}}</p></header>
    <main>
    {{#categories}}<section>
    <h2>{{name}}</h2>
    <div class="scroll"><table><thead><tr><th>subject</th><th>metric</th><th>host</th><th>latest</th><th>measured</th></tr></thead><tbody>
    {{#rows}}<tr class="{{level}}"><td>{{subject}}</td><td><a href="{{link}}">{{metric}}</a></td><td>{{host}}</td><td class="value">{{value}}</td><td>{{measured}}</td></tr>
    {{/rows}}
    </tbody></table></div>
    </section>
    {{/categories}}
    {{^hasMetrics}}<section><p>No health samples yet. The <code>health</code> job records them: schedule it (see <code>schedules:</code> in the configuration) or run <code>orchestrator health</code>.</p></section>{{/hasMetrics}}
    </main>
    </body>
    </html>
    """

    static let template = try! MustacheTemplate(string: text)
}
