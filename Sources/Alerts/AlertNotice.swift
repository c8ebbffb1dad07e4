import Alerting
import Foundation
import Settings
import Support

/// One message owed for an episode: claimed in the database first, so that of two evaluators
/// only one sends it.
package struct AlertNotice: Sendable, Equatable {
    package enum Event: String, Sendable, Codable {
        case firing, escalated, `repeat`, resolved
    }

    package let alertID: Int64
    package let event: Event
    package let rule: String
    package let subject: String
    package let host: String
    package let severity: AlertSeverity
    package let summary: String
    package let value: Double?
    package let threshold: Double?
    package let details: [String: JSONValue]
    package let firedAt: Date
    package let time: Date
    /// Why a resolved episode ended.
    package let resolveReason: String?

    /// The message every channel renders. Resolved messages keep the episode's severity (the
    /// headline says RESOLVED).
    func message(senderHost: String) -> AlertMessage {
        var fields: [AlertMessage.Field] = []
        if !subject.isEmpty { fields.append(.init("subject", subject)) }
        if let value { fields.append(.init("value", Self.format(value))) }
        if let threshold { fields.append(.init("threshold", Self.format(threshold))) }
        fields.append(.init("severity", severity.rawValue))
        fields.append(.init("fired", AlertMessage.timestamp(firedAt)))
        let body: String
        switch event {
        case .firing: body = "Alert \(rule) is firing."
        case .escalated: body = "Alert \(rule) escalated to \(severity.rawValue)."
        case .repeat: body = "Alert \(rule) is still firing (since \(AlertMessage.timestamp(firedAt)))."
        case .resolved:
            body = "Alert \(rule) resolved: \(resolveReason ?? "the condition cleared")."
        }
        return AlertMessage(
            alert: AlertCondition.name(rule: rule, subject: subject, host: host),
            title: summary,
            severity: severity == .critical ? .critical : .warning,
            state: event == .resolved ? .resolved : .firing,
            body: body,
            fields: fields,
            host: host.isEmpty ? senderHost : host,
            time: time
        )
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.2f", value)
    }
}
