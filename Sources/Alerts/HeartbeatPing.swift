import Alerting
import Foundation
import Settings
import Support

/// The dead man's switch: after a successful `check-alerts`, one GET to `alerts.heartbeat_url`
/// (a Healthchecks-style endpoint that raises its own alarm when pings stop). A ping that fails
/// is reported in the job's result and logged, and the next check pings again; the URL's
/// token (its path, query or userinfo) never appears in either.
package struct HeartbeatPing: Sendable {
    let url: String
    let transport: CurlTransport
    let timeout: Duration

    package init(url: String, transport: CurlTransport = CurlTransport(), timeout: Duration = .seconds(10)) {
        self.url = url
        self.transport = transport
        self.timeout = timeout
    }

    package struct Outcome: Sendable, Equatable {
        package let sent: Bool
        package let status: Int?
        package let error: String?

        package init(sent: Bool, status: Int?, error: String?) {
            self.sent = sent
            self.status = status
            self.error = error
        }

        package var json: JSONValue {
            var fields: [String: JSONValue] = ["sent": .bool(sent)]
            if let status { fields["status"] = .int(Int64(status)) }
            if let error { fields["error"] = .string(error) }
            return .object(fields)
        }
    }

    package func send() async -> Outcome {
        let redactor = Redactor(urls: [url])
        let shown = HeartbeatURL.display(url)
        let request = CurlRequest(
            url: url, protocols: .http, method: .get, headers: ["User-Agent: orchestrator/\(OrchestratorVersion.current)"],
            connectTimeout: timeout, timeout: timeout, maxResponseBytes: 0
        )
        do {
            let response = try await transport.perform(request)
            guard (200...299).contains(response.statusCode) else {
                return Outcome(sent: false, status: response.statusCode, error: "\(shown) answered HTTP \(response.statusCode)")
            }
            return Outcome(sent: true, status: response.statusCode, error: nil)
        } catch {
            return Outcome(sent: false, status: nil, error: "\(shown): \(redactor(error.description))")
        }
    }
}
