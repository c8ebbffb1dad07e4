import Foundation
import Hummingbird
import Queue

/// `/jobs` and `/api/jobs` query parameters, checked before anything reaches the database:
/// `state` and `since` must be one of their known values and `kind` a registered kind, else 400;
/// `target` is exact text, only ever bound as a parameter. Unknown parameters are ignored.
struct JobsQuery: Equatable {
    static let sinceChoices: [(name: String, seconds: Double)] = [("1h", 3600), ("24h", 86_400), ("7d", 7 * 86_400), ("30d", 30 * 86_400)]
    static let maximumTargetLength = 1024

    var state: JobState?
    var kind: String?
    var target: String?
    var since: String?
    var beforeID: Int64?
    var limit = ListLimit.defaultValue

    init(_ request: Request, kinds: [String]) throws {
        if let text = Self.value("state", request) {
            guard let state = JobState(rawValue: text) else { throw Self.invalid("state") }
            self.state = state
        }
        if let text = Self.value("kind", request) {
            guard kinds.contains(text) else { throw Self.invalid("kind") }
            kind = text
        }
        if let text = Self.value("target", request) {
            // PostgreSQL text holds no NUL; a longer target is no target anyone stored.
            guard text.utf8.count <= Self.maximumTargetLength, !text.contains("\u{0}") else { throw Self.invalid("target") }
            target = text
        }
        if let text = Self.value("since", request) {
            guard Self.sinceChoices.contains(where: { $0.name == text }) else { throw Self.invalid("since") }
            since = text
        }
        if let text = Self.value("before", request) {
            guard let id = Int64(text), id > 0 else { throw Self.invalid("before") }
            beforeID = id
        }
        limit = try ListLimit.parse(request)
    }

    func filter(now: Date) -> JobQueue.ListFilter {
        let seconds = Self.sinceChoices.first { $0.name == since }?.seconds
        return JobQueue.ListFilter(states: state.map { [$0] } ?? [], kind: kind, target: target,
                                   since: seconds.map { now.addingTimeInterval(-$0) }, beforeID: beforeID, limit: limit)
    }

    /// This query with another `before`, percent-encoded for a link (the template escapes it for HTML).
    func linkQuery(beforeID: Int64) -> String {
        var pairs: [(String, String)] = []
        if let state { pairs.append(("state", state.rawValue)) }
        if let kind { pairs.append(("kind", kind)) }
        if let target { pairs.append(("target", target)) }
        if let since { pairs.append(("since", since)) }
        if limit != ListLimit.defaultValue { pairs.append(("limit", String(limit))) }
        pairs.append(("before", String(beforeID)))
        return "?" + pairs.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
    }

    /// A parameter's value; empty (an unset form field) counts as absent.
    static func value(_ name: Substring, _ request: Request) -> String? {
        guard let value = request.uri.queryParameters[name], !value.isEmpty else { return nil }
        return String(value)
    }

    /// The message names the parameter, never echoes its value.
    static func invalid(_ name: String) -> HTTPError {
        HTTPError(.badRequest, message: "invalid \(name)")
    }
}

/// `limit`: rows per list (per profile on /backups), 1...200, 50 when absent.
enum ListLimit {
    static let defaultValue = 50
    static let maximum = 200

    static func parse(_ request: Request) throws -> Int {
        guard let text = JobsQuery.value("limit", request) else { return defaultValue }
        guard let limit = Int(text), (1...maximum).contains(limit) else { throw JobsQuery.invalid("limit") }
        return limit
    }
}
