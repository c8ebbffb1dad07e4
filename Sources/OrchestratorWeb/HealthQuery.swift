import Foundation
import Hummingbird

/// `/health` and `/api/health` query parameters, checked before anything reaches the database.
/// Without `metric` the page lists every metric; with it, it charts one series: `metric` (a
/// metric name's shape), `subject` (required with it), `host` (optional: the host sampling it
/// now) and `range` (`24h` when absent). Bad values are 400, and the message never echoes them.
struct HealthQuery: Equatable {
    enum Range: String, CaseIterable {
        case day = "24h", week = "7d", month = "30d", year = "1y"

        var seconds: Double {
            switch self {
            case .day: 86_400
            case .week: 7 * 86_400
            case .month: 30 * 86_400
            case .year: 365 * 86_400
            }
        }

        /// Up to a week the chart reads raw samples; longer periods read the daily rollups, since
        /// raw samples are pruned after `health.keep_raw_days` and would be thousands of points.
        var usesDailyRollups: Bool { self == .month || self == .year }
    }

    struct Series: Equatable {
        let metric: String
        let subject: String
        let host: String?
        let range: Range
    }

    /// Longer than any metric name the samplers write.
    static let maximumMetricLength = 100
    /// Subjects are paths, database keys, `db/schema.table`, unit and check names.
    static let maximumSubjectLength = 1024
    static let maximumHostLength = 255

    /// Nil: the list of metrics.
    let series: Series?

    init(_ request: Request) throws {
        let metric = JobsQuery.value("metric", request)
        let subject = JobsQuery.value("subject", request)
        let host = JobsQuery.value("host", request)
        let rangeText = JobsQuery.value("range", request)
        let range = try rangeText.map { text in
            guard let range = Range(rawValue: text) else { throw JobsQuery.invalid("range") }
            return range
        } ?? .day
        guard let metric else {
            // A subject, host or range means nothing without a metric; refusing says so.
            if subject != nil || host != nil || rangeText != nil { throw JobsQuery.invalid("metric") }
            series = nil
            return
        }
        guard metric.utf8.count <= Self.maximumMetricLength, Self.isMetricName(metric) else {
            throw JobsQuery.invalid("metric")
        }
        guard let subject, Self.isPlainText(subject, maximumLength: Self.maximumSubjectLength) else { throw JobsQuery.invalid("subject") }
        if let host, !Self.isPlainText(host, maximumLength: Self.maximumHostLength) { throw JobsQuery.invalid("host") }
        series = Series(metric: metric, subject: subject, host: host, range: range)
    }

    /// What the database accepts in `health_samples.metric` (migrations/0004_health.sql):
    /// `^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`.
    static func isMetricName(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard let first = parts.first?.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        }
    }

    /// PostgreSQL text holds no NUL; a longer value is nothing anyone stored.
    static func isPlainText(_ text: String, maximumLength: Int) -> Bool {
        text.utf8.count <= maximumLength && !text.contains("\u{0}")
    }

    /// The query string of one series' chart, percent-encoded for a link (the template escapes it for HTML).
    static func chartLink(host: String, metric: String, subject: String, range: Range) -> String {
        let pairs = [("metric", metric), ("subject", subject), ("host", host), ("range", range.rawValue)]
        return "/health?" + pairs.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "")" }.joined(separator: "&")
    }

    /// RFC 3986's unreserved characters, ASCII only: metric names stay readable, everything else is encoded.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
