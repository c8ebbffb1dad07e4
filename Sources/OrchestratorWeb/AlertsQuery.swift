import Alerts
import Hummingbird

/// `/alerts` and `/api/alerts` query parameters, checked before the database is asked:
/// `state` is `firing` or `resolved`, `severity` `warning` or `critical`, else 400.
struct AlertsQuery: Equatable {
    enum State: String, CaseIterable { case firing, resolved }

    var state: State?
    var severity: AlertRecord.Severity?
    /// Resolved episodes shown (the firing ones are all shown, up to `ListLimit.maximum`).
    var limit = ListLimit.defaultValue

    init(_ request: Request) throws {
        if let text = JobsQuery.value("state", request) {
            guard let state = State(rawValue: text) else { throw JobsQuery.invalid("state") }
            self.state = state
        }
        if let text = JobsQuery.value("severity", request) {
            guard let severity = AlertRecord.Severity(rawValue: text) else { throw JobsQuery.invalid("severity") }
            self.severity = severity
        }
        limit = try ListLimit.parse(request)
    }

    var includesFiring: Bool { state != .resolved }
    var includesResolved: Bool { state != .firing }
}
