import Foundation
import Support

/// One measured value (or the reason there is none): a row of `orchestrator.health_samples`.
package struct HealthSample: Sendable, Equatable, Encodable {
    package enum Category: String, Sendable, Encodable, CaseIterable {
        case system, postgres, service, check
    }

    package enum Status: String, Sendable, Encodable {
        /// Measured.
        case ok
        /// The check itself failed: unit inactive, port closed, query error, database unreachable.
        case failed
        /// Could not be determined (no systemd, first sample of a rate, statistics reset).
        case unknown
        /// Not present on this host (no temperature sensor, no swap); never reported as 0.
        case absent
    }

    package let category: Category
    /// What was measured: `host`, a mount path, a database key, `trading/public.trades`, a unit, a check name.
    package let subject: String
    /// Stable dotted name (`cpu.usage_percent`, `disk.used_percent`, `pg.connections_used_percent`).
    package let metric: String
    /// Nil when there is no number (see `status` and `message`); never NaN or infinite.
    package let value: Double?
    package let unit: String?
    package let status: Status
    package let message: String?
    package let details: [String: JSONValue]

    package init(
        _ category: Category, _ subject: String, _ metric: String, value: Double?, unit: String? = nil,
        status: Status = .ok, message: String? = nil, details: [String: JSONValue] = [:]
    ) {
        self.category = category
        self.subject = subject
        self.metric = metric
        let finite = value.flatMap { $0.isFinite ? $0 : nil }
        self.value = finite
        self.unit = unit
        // No number (or one that cannot be represented) is not a measurement.
        self.status = (finite == nil && status == .ok) ? .unknown : status
        self.message = message
        self.details = details
    }

    enum CodingKeys: String, CodingKey {
        case category, subject, metric, value, unit, status, message, details
    }

    /// Absent values are written as null, so every sample has the same keys in JSON.
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(category, forKey: .category)
        try c.encode(subject, forKey: .subject)
        try c.encode(metric, forKey: .metric)
        try c.encode(value, forKey: .value)
        try c.encode(unit, forKey: .unit)
        try c.encode(status, forKey: .status)
        try c.encode(message, forKey: .message)
        try c.encode(details, forKey: .details)
    }

    /// A check that did not produce a number, with the reason.
    package static func failure(_ category: Category, _ subject: String, _ metric: String, _ message: String,
                               status: Status = .failed, details: [String: JSONValue] = [:]) -> HealthSample {
        HealthSample(category, subject, metric, value: nil, status: status, message: message, details: details)
    }
}

/// Everything one sampling run measured.
package struct HealthRun: Sendable, Encodable {
    package let host: String
    package let takenAt: Date
    package let durationMs: Double
    /// Time spent in PostgreSQL sampling queries (all databases, connecting excluded).
    package let databaseMs: Double
    package let samples: [HealthSample]

    package init(host: String, takenAt: Date, durationMs: Double, databaseMs: Double, samples: [HealthSample]) {
        self.host = host
        self.takenAt = takenAt
        self.durationMs = durationMs
        self.databaseMs = databaseMs
        self.samples = samples
    }

    package var failed: [HealthSample] { samples.filter { $0.status == .failed } }
}
