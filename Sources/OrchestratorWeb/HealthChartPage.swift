import Foundation
import Health
import Mustache

/// `/health?metric=…&subject=…`: one series as a line chart with its thresholds, the ranges and
/// the other hosts as links. Every string is HTML-escaped by the template (`{{…}}`), the chart's
/// too (`LineChart.template`).
struct HealthChartPage {
    struct Link { let label: String; let link: String; let current: Bool }

    let metric: String
    let subject: String
    let host: String
    let ranges: [Link]
    let hosts: [Link]
    let hasHosts: Bool
    /// None or one.
    let charts: [LineChart.Drawing]
    let hasChart: Bool
    let source: String
    let latest: String
    let low: String
    let average: String
    let high: String
    let thresholds: String
    let generatedAt: String

    init(_ view: HealthView, series: HealthQuery.Series) {
        generatedAt = DisplayText.time(view.generatedAt)
        metric = series.metric
        subject = series.subject
        guard let chart = view.chart else {
            host = series.host ?? "–"
            ranges = []
            hosts = []
            hasHosts = false
            charts = []
            hasChart = false
            source = "No host samples this metric and subject now; name one with host=."
            latest = "–"; low = "–"; average = "–"; high = "–"; thresholds = "none"
            return
        }
        let history = chart.history
        let unit = history.unit
        host = history.key.host
        ranges = HealthQuery.Range.allCases.map { range in
            Link(label: range.rawValue, link: HealthQuery.chartLink(host: history.key.host, metric: series.metric, subject: series.subject, range: range),
                 current: range == series.range)
        }
        hosts = chart.hosts.map { other in
            Link(label: other, link: HealthQuery.chartLink(host: other, metric: series.metric, subject: series.subject, range: series.range), current: false)
        }
        hasHosts = !hosts.isEmpty
        var levels: [LineChart.Level] = []
        if let warning = chart.thresholds?.warning { levels.append(.init(label: "warning", value: warning, kind: "warning")) }
        if let critical = chart.thresholds?.critical { levels.append(.init(label: "critical", value: critical, kind: "critical")) }
        let points = history.points.map { LineChart.Point(at: $0.at, value: $0.avg, low: $0.min, high: $0.max) }
        let drawing = LineChart(series: [.init(label: "average", points: points)], levels: levels, from: history.since, until: history.until,
                            format: { DisplayText.value($0, unit: unit) }, title: "\(series.metric) \(series.subject) on \(history.key.host)").drawing()
        charts = drawing.map { [$0] } ?? []
        hasChart = drawing != nil
        let samples = history.points.reduce(0) { $0 + $1.count }
        let failed = history.points.reduce(0) { $0 + $1.failed }
        let failedText = failed > 0 ? ", \(failed) failed" : ""
        switch history.source {
        case .raw: source = "\(samples) raw samples in \(history.points.count) points\(failedText)"
        case .daily: source = "daily rollups: \(history.points.count) days, \(samples) samples\(failedText)"
        }
        let values = history.points.filter { $0.count > 0 }
        latest = DisplayText.value(values.last?.avg, unit: unit)
        low = DisplayText.value(values.compactMap(\.min).min(), unit: unit)
        high = DisplayText.value(values.compactMap(\.max).max(), unit: unit)
        let total = values.reduce(0.0) { $0 + ($1.avg ?? 0) * Double($1.count) }
        average = DisplayText.value(samples > 0 ? total / Double(samples) : nil, unit: unit)
        thresholds = chart.thresholds.map { rule in
            let direction = rule.below ? "below" : "above"
            return [rule.warning.map { "warning \(direction) \(DisplayText.value($0, unit: unit))" },
                    rule.critical.map { "critical \(direction) \(DisplayText.value($0, unit: unit))" }].compactMap { $0 }.joined(separator: ", ")
        } ?? "none"
    }

    static let text = """
    \(PageLayout.head(title: "health"))
    <header class="top ok"><h1>{{metric}}</h1><p class="meta">{{subject}} @ {{host}} · {{generatedAt}}</p></header>
    <main>
    <section>
    <p class="ranges"><a href="/health">All metrics</a>{{#ranges}} {{#current}}<strong>{{label}}</strong>{{/current}}{{^current}}<a href="{{link}}">{{label}}</a>{{/current}}{{/ranges}}</p>
    {{#hasHosts}}<p class="note">Also sampled on: {{#hosts}}<a href="{{link}}">{{label}}</a> {{/hosts}}</p>{{/hasHosts}}
    \(LineChart.template)
    {{^hasChart}}<p>No samples of this metric in this range.</p>{{/hasChart}}
    <dl><dt>latest</dt><dd>{{latest}}</dd><dt>min</dt><dd>{{low}}</dd><dt>average</dt><dd>{{average}}</dd><dt>max</dt><dd>{{high}}</dd>
    <dt>thresholds</dt><dd>{{thresholds}}</dd><dt>source</dt><dd>{{source}}</dd></dl>
    </section>
    </main>
    </body>
    </html>
    """

    static let template = try! MustacheTemplate(string: text)
}
