import Foundation
import Mustache

/// `/maintenance`: per table, its vacuum/analyze, retention and reindex runs, newest first, with
/// dead tuples before and after each vacuum drawn when there are several. Every string is
/// HTML-escaped by the template (`{{…}}`), the chart's too (`LineChart.template`).
struct MaintenancePage {
    struct Row {
        let job: Int64; let finished: String; let kind: String; let operation: String; let status: String; let level: String
        let deadBefore: String; let deadAfter: String; let size: String; let rowsDeleted: String; let index: String; let indexSize: String; let took: String
    }
    /// `charts`: none or one.
    struct Table { let database: String; let table: String; let rows: [Row]; let charts: [LineChart.Drawing] }

    let tables: [Table]
    let hasTables: Bool
    let jobsPerKind: Int
    let generatedAt: String

    init(_ history: MaintenanceHistory) {
        let now = history.generatedAt
        tables = history.tables.map { table in
            let rows = table.events.map { event in
                Row(job: event.jobID, finished: DisplayText.ago(event.finishedAt, now: now), kind: event.kind, operation: event.operation,
                    status: event.status, level: event.status == "succeeded" ? "ok" : "critical",
                    deadBefore: Self.count(event.deadTuplesBefore), deadAfter: Self.count(event.deadTuplesAfter),
                    size: Self.change(event.bytesBefore, event.bytesAfter), rowsDeleted: Self.count(event.rowsDeleted),
                    index: event.index ?? "–", indexSize: Self.change(event.indexBytesBefore, event.indexBytesAfter),
                    took: event.seconds.map(DisplayText.duration) ?? "–")
            }
            return Table(database: table.database, table: table.table, rows: rows, charts: Self.deadTuplesChart(table).map { [$0] } ?? [])
        }
        hasTables = !tables.isEmpty
        jobsPerKind = history.jobsPerKind
        generatedAt = DisplayText.time(now)
    }

    /// Dead tuples before and after each vacuum, when at least two runs recorded them.
    static func deadTuplesChart(_ table: MaintenanceHistory.Table) -> LineChart.Drawing? {
        let vacuums = table.events.filter { $0.deadTuplesBefore != nil }.reversed()
        guard vacuums.count >= 2, let first = vacuums.first?.finishedAt, let last = vacuums.last?.finishedAt else { return nil }
        let before = vacuums.map { LineChart.Point(at: $0.finishedAt, value: $0.deadTuplesBefore.map(Double.init)) }
        let after = vacuums.map { LineChart.Point(at: $0.finishedAt, value: $0.deadTuplesAfter.map(Double.init)) }
        return LineChart(series: [.init(label: "dead before", points: before), .init(label: "dead after", points: after)], levels: [],
                         from: first, until: last, format: { DisplayText.value($0, unit: nil) },
                         title: "dead tuples before and after each vacuum of \(table.table)").drawing()
    }

    static func count(_ value: Int64?) -> String {
        value.map(String.init) ?? "–"
    }

    static func change(_ before: Int64?, _ after: Int64?) -> String {
        guard let before, let after else { return "–" }
        return "\(DisplayText.bytes(Double(before))) → \(DisplayText.bytes(Double(after)))"
    }

    static let text = """
    \(PageLayout.head(title: "maintenance"))
    <header class="top ok"><h1>Maintenance</h1><p class="meta">{{generatedAt}} · newest {{jobsPerKind}} jobs of each kind</p></header>
    <main>
    {{#tables}}<section>
    <h2>{{table}} <span class="note">in {{database}}</span></h2>
    \(LineChart.template)
    <div class="scroll"><table><thead><tr><th>job</th><th>finished</th><th>kind</th><th>operation</th><th>status</th><th>dead tuples before</th><th>dead tuples after</th><th>table size</th><th>rows deleted</th><th>index</th><th>index size</th><th>took</th></tr></thead><tbody>
    {{#rows}}<tr class="{{level}}"><td><a href="/jobs/{{job}}">{{job}}</a></td><td>{{finished}}</td><td>{{kind}}</td><td>{{operation}}</td><td>{{status}}</td><td>{{deadBefore}}</td><td>{{deadAfter}}</td><td>{{size}}</td><td>{{rowsDeleted}}</td><td>{{index}}</td><td>{{indexSize}}</td><td>{{took}}</td></tr>
    {{/rows}}
    </tbody></table></div>
    </section>
    {{/tables}}
    {{^hasTables}}<section><p>No maintenance run recorded yet. The <code>vacuum</code>, <code>analyze</code>, <code>retention</code> and <code>reindex</code> jobs record what they did to each table here.</p></section>{{/hasTables}}
    </main>
    </body>
    </html>
    """

    static let template = try! MustacheTemplate(string: text)
}
