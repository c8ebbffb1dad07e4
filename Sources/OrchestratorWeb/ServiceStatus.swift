import Foundation
import Health

/// A service the health checks watch, as its newest sample left it: an HTTP or TCP endpoint, a
/// systemd unit or a PostgreSQL server, up or down, with the HTTP response time and the days its
/// certificate has left when measured.
package struct ServiceStatus: Sendable, Encodable {
    package let host: String
    package let name: String
    /// `http`, `tcp`, `systemd` or `postgres`.
    package let check: String
    package let up: Bool
    package let message: String?
    package let responseMilliseconds: Double?
    package let certificateDaysLeft: Double?
    package let takenAt: Date

    /// The metrics whose value says up (1) or down (0), and what kind of check each is.
    static let upMetrics = ["http.up": "http", "tcp.up": "tcp", "systemd.active": "systemd", "pg.up": "postgres"]
    static let detailMetrics = ["http.response_ms", "http.cert_days_left"]
    static var metrics: [String] { upMetrics.keys.sorted() + detailMetrics }

    /// One status per host and subject of an up metric; the detail samples of the same subject
    /// are attached to it. Down first, then by host and name.
    static func from(_ samples: [LatestHealthSample]) -> [ServiceStatus] {
        struct Key: Hashable { let host: String; let subject: String }
        let details = Dictionary(grouping: samples.filter { detailMetrics.contains($0.metric) }) { Key(host: $0.host, subject: $0.subject) }
        return samples.compactMap { sample in
            guard let check = upMetrics[sample.metric] else { return nil }
            let extra = details[Key(host: sample.host, subject: sample.subject)] ?? []
            return ServiceStatus(
                host: sample.host, name: sample.subject, check: check, up: sample.value == 1, message: sample.message,
                responseMilliseconds: extra.first { $0.metric == "http.response_ms" }?.value,
                certificateDaysLeft: extra.first { $0.metric == "http.cert_days_left" }?.value,
                takenAt: sample.takenAt
            )
        }
        .sorted { ($0.up ? 1 : 0, $0.host, $0.name) < ($1.up ? 1 : 0, $1.host, $1.name) }
    }
}
