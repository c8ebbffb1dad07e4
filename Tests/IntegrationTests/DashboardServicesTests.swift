import Foundation
import Health
import Hummingbird
import HummingbirdTesting
@testable import OrchestratorWeb
import PostgresClient
import Testing

/// The overview's services: HTTP, TCP, systemd and PostgreSQL checks up or down, from the
/// newest health run, down first and among the problems.
@Suite("Dashboard services")
struct DashboardServicesTests {
    @Test func servicesShowUpOrDownWithResponseTimeAndCertificate() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await HealthStore.store(HealthRun(
                host: "nuc", takenAt: Date().addingTimeInterval(-120), durationMs: 5, databaseMs: 1,
                samples: [
                    HealthSample(.service, "trading-api", "http.up", value: 1, unit: "boolean"),
                    HealthSample(.service, "trading-api", "http.response_ms", value: 42.5, unit: "milliseconds"),
                    HealthSample(.service, "trading-api", "http.cert_days_left", value: 19, unit: "days"),
                    HealthSample(.service, "broker <b>", "tcp.up", value: 0, unit: "boolean", status: .failed, message: "connection refused <script>"),
                    HealthSample(.service, "trading.service", "systemd.active", value: 1, status: .ok, message: "active (running)"),
                    HealthSample(.postgres, "trading", "pg.up", value: 1, unit: "boolean"),
                ]
            ), jobID: nil, on: connection)
            try await DashboardFixture.test(harness) { client in
                let json = try await client.execute(uri: "/api/overview", method: .get) { response in
                    try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
                }
                let services = try #require(json["services"] as? [[String: Any]])
                #expect(services.map { $0["name"] as? String } == ["broker <b>", "trading", "trading-api", "trading.service"])
                #expect(services.map { $0["check"] as? String } == ["tcp", "postgres", "http", "systemd"])
                #expect(services.map { $0["up"] as? Bool } == [false, true, true, true])
                #expect((services[2]["responseMilliseconds"] as? NSNumber)?.doubleValue == 42.5)
                #expect((services[2]["certificateDaysLeft"] as? NSNumber)?.doubleValue == 19)

                try await client.execute(uri: "/", method: .get) { response in
                    let page = response.text
                    #expect(page.contains("<h2>Services</h2>"))
                    #expect(page.contains("<tr class=\"critical\"><td>broker &lt;b&gt;</td><td>tcp</td><td>nuc</td><td class=\"wrap\">down, connection refused &lt;script&gt;</td><td>checked 2 min ago</td></tr>"))
                    #expect(page.contains("<td>trading-api</td><td>http</td><td>nuc</td><td class=\"wrap\">up, 42.5 ms, certificate 19 days left</td>"))
                    #expect(page.contains("tcp check broker &lt;b&gt;@nuc is down: connection refused &lt;script&gt;"))
                    #expect(!page.contains("<script"))
                }
            }
        }
    }

    @Test func withoutServiceChecksTheSectionSaysHowToAddThem() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            try await DashboardFixture.test(harness) { client in
                try await client.execute(uri: "/", method: .get) { response in
                    #expect(response.text.contains("No service checks (add HTTP, TCP or systemd checks under health:)."))
                }
            }
        }
    }
}
