import Foundation

/// `alerts.heartbeat_url`: where the dead man's switch is pinged, resolved from the
/// configuration or its secret. Such URLs carry their token in the path (Healthchecks:
/// `https://hc-ping.com/<uuid>`), so only the scheme and host are ever shown.
package enum HeartbeatURL {
    /// The URL to ping, or nil when none is configured.
    package static func resolve(_ alerts: AlertSettings, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> String? {
        if let url = alerts.heartbeatURL { return url }
        guard alerts.heartbeatURLSecret.isConfigured else { return nil }
        return try alerts.heartbeatURLSecret.resolve(path: "alerts.heartbeat_url", environment: environment)
    }

    /// `https://hc-ping.com/…`: what logs, results and errors may show.
    package static func display(_ text: String) -> String {
        guard let parts = URLComponents(string: text), let scheme = parts.scheme, let host = parts.host else { return "(invalid URL)" }
        return "\(scheme)://\(host)\(parts.port.map { ":\($0)" } ?? "")/…"
    }
}
