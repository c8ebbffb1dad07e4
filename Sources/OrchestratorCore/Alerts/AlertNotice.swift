import Alerting
import Foundation

/// One message owed for an episode: claimed in the database first, so that of two evaluators
/// only one sends it.
public struct AlertNotice: Sendable, Equatable {
    public enum Event: String, Sendable, Codable {
        case firing, escalated, `repeat`, resolved
    }

    public let alertID: Int64
    public let event: Event
    public let rule: String
    public let subject: String
    public let host: String
    public let severity: AlertSeverity
    public let summary: String
    public let value: Double?
    public let threshold: Double?
    public let details: [String: JSONValue]
    public let firedAt: Date
    public let time: Date
    /// Why a resolved episode ended.
    public let resolveReason: String?

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
