import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `orchestrator serve` counts and times its own requests (swift-metrics into the Prometheus
/// registry) and adds them to `/metrics` beside what it reads from the database.
@Suite("Dashboard request metrics")
struct DashboardRequestMetricsTests {
    @Test func servedRequestsAreCountedAndTimedByRouteAndStatus() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let server = try await ServeProcess(databaseURL: try harness.database.url)
            defer { server.stop() }
            func get(_ path: String) async throws -> (Int, String) {
                let (data, response) = try await URLSession.shared.data(from: URL(string: server.base + path)!)
                return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
            }
            #expect(try await get("/jobs").0 == 200)
            #expect(try await get("/jobs").0 == 200)
            #expect(try await get("/jobs/12345").0 == 404)
            #expect(try await get("/jobs?state=bogus").0 == 400)
            let (status, text) = try await get("/metrics")
            #expect(status == 200)
            var samples: [String: Double] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " ") else { continue }
                samples[String(line[..<space])] = Double(line[line.index(after: space)...])
            }
            #expect(samples[#"orchestrator_web_requests{route="/jobs",method="GET",status="200"}"#] == 2)
            #expect(samples[#"orchestrator_web_request_duration_seconds_count{route="/jobs",method="GET",status="200"}"#] == 2)
            #expect(samples[#"orchestrator_web_request_duration_seconds_bucket{route="/jobs",method="GET",status="200",le="+Inf"}"#] == 2)
            #expect(samples[#"orchestrator_web_requests{route="/jobs/{id}",method="GET",status="404"}"#] == 1)
            #expect(samples[#"orchestrator_web_request_errors{route="/jobs",method="GET",error="400"}"#] == 1)
            #expect(samples["orchestrator_database_up"] == 1)
            try await PrometheusParser.check(text, families: 9)
        }
    }
}
