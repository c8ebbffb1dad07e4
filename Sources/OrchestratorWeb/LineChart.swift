import Foundation

/// A server-side SVG line chart over time: one or more series (each a line, with a min–max band
/// where its points carry one, and dots when there are few), horizontal level lines (thresholds),
/// min/max labels on the value axis and times on the time axis. The page needs no script and no
/// image request. `drawing()` computes the coordinates; `template`, a fragment for a page's
/// template, writes the SVG, so every text in it is escaped by the template like the rest.
struct LineChart {
    struct Point {
        let at: Date
        let value: Double?
        /// The band around `value` (min and max of the samples behind it), when there is one.
        let low: Double?
        let high: Double?

        init(at: Date, value: Double?, low: Double? = nil, high: Double? = nil) {
            self.at = at
            self.value = value
            self.low = low
            self.high = high
        }
    }

    struct Series {
        let label: String
        let points: [Point]
    }

    /// A horizontal line at a value, e.g. a warning threshold; `kind` becomes its CSS class.
    struct Level {
        let label: String
        let value: Double
        let kind: String
    }

    /// What the template draws: coordinates already written as numbers, text as text.
    struct Drawing {
        struct Label { let kind: String; let x: String; let y: String; let anchor: String; let text: String }
        struct LevelLine { let kind: String; let x1: String; let x2: String; let y: String }
        struct Shape { let series: Int; let points: String }
        struct Dot { let series: Int; let x: String; let y: String }

        let width: String
        let height: String
        let title: String
        let axis: String
        let levels: [LevelLine]
        let bands: [Shape]
        let lines: [Shape]
        let dots: [Dot]
        let labels: [Label]
    }

    /// The SVG of a page's `charts` (none or one `Drawing`). Every key is one the Drawing and its
    /// parts have, so nothing is looked up in the page around it.
    static let template = """
    {{#charts}}<svg class="chart" viewBox="0 0 {{width}} {{height}}" role="img" xmlns="http://www.w3.org/2000/svg"><title>{{title}}</title>\
    <path class="axis" d="{{axis}}"/>\
    {{#levels}}<line class="level {{kind}}" x1="{{x1}}" y1="{{y}}" x2="{{x2}}" y2="{{y}}"/>{{/levels}}\
    {{#bands}}<polygon class="band s{{series}}" points="{{points}}"/>{{/bands}}\
    {{#lines}}<polyline class="line s{{series}}" points="{{points}}"/>{{/lines}}\
    {{#dots}}<circle class="dot s{{series}}" cx="{{x}}" cy="{{y}}" r="2.5"/>{{/dots}}\
    {{#labels}}<text class="{{kind}}" x="{{x}}" y="{{y}}" text-anchor="{{anchor}}">{{text}}</text>{{/labels}}\
    </svg>{{/charts}}
    """

    static let width = 800.0
    static let height = 260.0
    static let left = 84.0, right = 12.0, top = 12.0, bottom = 28.0
    /// Dots are drawn per point up to this many points; beyond it the line and band carry it.
    static let maximumDots = 150

    let series: [Series]
    let levels: [Level]
    let from: Date
    let until: Date
    /// How value labels are written (units included).
    let format: (Double) -> String
    /// A title for assistive technology.
    let title: String

    /// Nil when no series has a value to draw.
    func drawing() -> Drawing? {
        let values = series.flatMap { $0.points.flatMap { [$0.value, $0.low, $0.high].compactMap { $0 } } }
        guard var low = values.min(), var high = values.max() else { return nil }
        // Levels are part of the scale, so a line and its threshold are seen together.
        for level in levels { low = min(low, level.value); high = max(high, level.value) }
        if high == low { (low, high) = (low - max(1, abs(low) * 0.1), high + max(1, abs(high) * 0.1)) }
        let span = until.timeIntervalSince(from) > 0 ? until.timeIntervalSince(from) : 1
        let plotWidth = Self.width - Self.left - Self.right, plotHeight = Self.height - Self.top - Self.bottom
        let bottomY = Self.top + plotHeight, rightX = Self.width - Self.right
        func x(_ date: Date) -> Double { Self.left + min(1, max(0, date.timeIntervalSince(from) / span)) * plotWidth }
        func y(_ value: Double) -> Double { Self.top + (1 - (value - low) / (high - low)) * plotHeight }
        func pair(_ x: Double, _ y: Double) -> String { "\(Self.number(x)),\(Self.number(y))" }
        func label(_ text: String, x: Double, y: Double, anchor: String, kind: String) -> Drawing.Label {
            Drawing.Label(kind: kind, x: Self.number(x), y: Self.number(y), anchor: anchor, text: text)
        }

        var labels = [
            label(format(high), x: Self.left - 4, y: Self.top + 4, anchor: "end", kind: "max"),
            label(format(low), x: Self.left - 4, y: bottomY, anchor: "end", kind: "min"),
        ]
        for (date, anchor) in [(from, "start"), (from.addingTimeInterval(span / 2), "middle"), (until, "end")] {
            labels.append(label(timeLabel(date, span: span), x: x(date), y: Self.height - 6, anchor: anchor, kind: "time"))
        }
        var lines: [Drawing.LevelLine] = []
        for level in levels {
            lines.append(Drawing.LevelLine(kind: level.kind, x1: Self.number(Self.left), x2: Self.number(rightX), y: Self.number(y(level.value))))
            labels.append(label("\(level.label) \(format(level.value))", x: rightX - 2, y: y(level.value) - 3, anchor: "end", kind: "level \(level.kind)"))
        }
        var bands: [Drawing.Shape] = [], polylines: [Drawing.Shape] = [], dots: [Drawing.Dot] = []
        for (index, series) in series.enumerated() {
            let banded = series.points.compactMap { point -> (Double, Double, Double)? in
                guard let low = point.low, let high = point.high else { return nil }
                return (x(point.at), y(low), y(high))
            }
            if banded.count >= 2, banded.contains(where: { $0.1 != $0.2 }) {
                let outline = banded.map { pair($0.0, $0.2) } + banded.reversed().map { pair($0.0, $0.1) }
                bands.append(Drawing.Shape(series: index, points: outline.joined(separator: " ")))
            }
            let line = series.points.compactMap { point in point.value.map { (x(point.at), y($0)) } }
            for run in Self.runs(line.map(\.0)) where run.count >= 2 {
                polylines.append(Drawing.Shape(series: index, points: line[run].map { pair($0.0, $0.1) }.joined(separator: " ")))
            }
            if line.count <= Self.maximumDots {
                dots += line.map { Drawing.Dot(series: index, x: Self.number($0.0), y: Self.number($0.1)) }
            }
        }
        if series.count > 1 {
            for (index, series) in series.enumerated() {
                labels.append(label(series.label, x: Self.left + 8 + Double(index) * 120, y: Self.top + 12, anchor: "start", kind: "legend s\(index)"))
            }
        }
        return Drawing(
            width: Self.number(Self.width), height: Self.number(Self.height), title: title,
            axis: "M\(Self.number(Self.left)) \(Self.number(Self.top))V\(Self.number(bottomY))H\(Self.number(rightX))",
            levels: lines, bands: bands, lines: polylines, dots: dots, labels: labels
        )
    }

    /// The stretches of a line between gaps: a step over three times the usual (median) step
    /// means nothing was measured there, so the line breaks instead of bridging it.
    static func runs(_ xs: [Double]) -> [Range<Int>] {
        guard xs.count > 2 else { return xs.isEmpty ? [] : [0..<xs.count] }
        let steps = zip(xs.dropFirst(), xs).map { $0 - $1 }
        let usual = steps.sorted()[steps.count / 2]
        var runs: [Range<Int>] = [], start = 0
        for (index, step) in steps.enumerated() where usual > 0 && step > 3 * usual {
            runs.append(start..<(index + 1))
            start = index + 1
        }
        return runs + [start..<xs.count]
    }

    /// Hours and minutes for a period up to two days, the date beyond (UTC, as stored).
    private func timeLabel(_ date: Date, span: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = span <= 2 * 86_400 ? "MM-dd HH:mm" : "yyyy-MM-dd"
        return formatter.string(from: date)
    }

    /// One decimal: enough for a 800-unit box, and short.
    static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
