import Alerting
import Foundation
import Settings
import Support

/// GETs a configured endpoint through libcurl (on the transport's own thread, never the
/// cooperative pool) and records whether it answered the expected status within the timeout.
///
/// The URL's query string may carry a token, so it is never stored or logged: samples keep the
/// URL without it (`?[redacted]` marks that there was one) and every message is redacted.
enum HTTPProbe {
    /// Bytes of the answer read into memory; the probe only needs the status, the rest is drained.
    static let keptBodyBytes = 0

    static func sample(_ name: String, _ check: HTTPCheck, transport: CurlTransport = CurlTransport(),
                       userAgent: String = "orchestrator/\(OrchestratorVersion.current)") async -> [HealthSample] {
        let shown = displayURL(check.url)
        let redactor = Redactor(secrets: querySecrets(check.url))
        var details: [String: JSONValue] = ["url": .string(shown), "expect_status": .int(Int64(check.expectStatus))]
        let timeout = Duration.milliseconds(check.timeoutMs)
        var request = CurlRequest(url: check.url, protocols: .http, method: .get, headers: ["User-Agent: \(userAgent)"],
                                  connectTimeout: timeout, timeout: timeout, maxResponseBytes: keptBodyBytes)
        request.caFile = check.caFile
        request.certificateExpiry = check.url.lowercased().hasPrefix("https://")
        let response: CurlResponse
        do {
            response = try await transport.perform(request)
        } catch {
            let reason = error.isCancelled ? "cancelled" : error.isTimedOut ? "timed out after \(check.timeoutMs) ms" : redactor(error.description)
            return [HealthSample(.service, name, "http.up", value: 0, unit: "boolean", status: .failed,
                                 message: "\(shown): \(reason)", details: details)]
        }
        let status = response.statusCode
        let milliseconds = Double(response.elapsed.components.seconds) * 1000 + Double(response.elapsed.components.attoseconds) / 1e15
        details["status"] = .int(Int64(status))
        var measured = [
            HealthSample(.service, name, "http.status", value: Double(status), unit: "status"),
            HealthSample(.service, name, "http.response_ms", value: milliseconds, unit: "milliseconds"),
        ]
        if let expiry = response.certificateExpiry {
            let days = expiry.timeIntervalSinceNow / 86_400
            measured.append(HealthSample(
                .service, name, "http.cert_days_left", value: (days * 10).rounded() / 10, unit: "days",
                message: "\(shown): certificate expires \(ISO8601DateFormatter().string(from: expiry))",
                details: ["expires_at": .string(ISO8601DateFormatter().string(from: expiry))]
            ))
        }
        guard status == check.expectStatus else {
            var message = "\(shown): answered HTTP \(status), expected \(check.expectStatus)"
            if (300...399).contains(status) {
                message += " (redirects are not followed: configure the final URL or expect_status: \(status))"
            }
            return [HealthSample(.service, name, "http.up", value: 0, unit: "boolean", status: .failed, message: message, details: details)]
                + measured
        }
        return [HealthSample(.service, name, "http.up", value: 1, unit: "boolean", details: details)] + measured
    }

    /// The URL without credentials, query or fragment: what samples, messages and logs may show.
    static func displayURL(_ text: String) -> String {
        guard var parts = URLComponents(string: text) else { return "(invalid URL)" }
        let hadQuery = parts.percentEncodedQuery != nil
        parts.user = nil
        parts.password = nil
        parts.percentEncodedQuery = nil
        parts.fragment = nil
        let shown = parts.string ?? "(invalid URL)"
        return hadQuery ? shown + "?" + Redactor.mask : shown
    }

    /// The query string and each of its values, removed from any text that might echo them.
    static func querySecrets(_ text: String) -> [String] {
        guard let parts = URLComponents(string: text), let query = parts.percentEncodedQuery else { return [] }
        let values = query.split(separator: "&").compactMap { pair in pair.split(separator: "=", maxSplits: 1).dropFirst().first.map(String.init) }
        return [query] + values.filter { $0.count >= 4 }
    }
}
