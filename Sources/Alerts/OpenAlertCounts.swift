import Foundation
import PostgresClient

/// How many alerts are firing, by severity (`warning`, `critical`; both always present).
package struct OpenAlertCounts: Sendable, Codable, Equatable {
    package let bySeverity: [String: Int]

    package var total: Int { bySeverity.values.reduce(0, +) }

    package static func load(on connection: PostgresConnection) async throws -> OpenAlertCounts {
        // alerts_one_firing_idx holds exactly the firing rows.
        let rows = try await connection.query(
            "SELECT severity, count(*) AS n FROM orchestrator.alerts WHERE state = 'firing' GROUP BY severity"
        )
        var counts = ["warning": 0, "critical": 0]
        for row in rows.rows { counts[try row.decode("severity")] = try row.decode("n") }
        return OpenAlertCounts(bySeverity: counts)
    }
}
