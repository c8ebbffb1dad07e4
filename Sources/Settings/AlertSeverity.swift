/// How bad an alert is. `critical` outranks `warning`.
package enum AlertSeverity: String, Sendable, Codable, CaseIterable, Comparable {
    case warning, critical

    package static func < (lhs: AlertSeverity, rhs: AlertSeverity) -> Bool {
        lhs == .warning && rhs == .critical
    }
}
