/// How bad an alert is. `critical` outranks `warning`.
public enum AlertSeverity: String, Sendable, Codable, CaseIterable, Comparable {
    case warning, critical

    public static func < (lhs: AlertSeverity, rhs: AlertSeverity) -> Bool {
        lhs == .warning && rhs == .critical
    }
}
