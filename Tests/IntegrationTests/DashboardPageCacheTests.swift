import Foundation
import Hummingbird
import HummingbirdTesting
@testable import OrchestratorWeb
import PostgresClient
import Testing

/// Pages are rendered once a second per URL: a second request within the second gets the same
/// page, another URL is rendered for itself, an error is never kept, and an action clears every
/// page so the one it leads back to shows its effect.
@Suite("Dashboard page cache")
struct DashboardPageCacheTests {
    @Test func aPageIsServedAgainWithinASecondAndAnActionClearsIt() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            // A long freshness, so a slow machine cannot let the page expire between two requests.
            try await DashboardFixture.test(harness, token: DashboardFixture.token, sharedFor: .seconds(60)) { client in
                let bearer = DashboardFixture.bearer(DashboardFixture.token)
                func ids(_ uri: String) async throws -> [Int64] {
                    try await client.execute(uri: uri, method: .get, headers: bearer) { response in
                        #expect(response.status == .ok)
                        let json = try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
                        return try #require(json["jobs"] as? [[String: Any]]).compactMap { ($0["id"] as? NSNumber)?.int64Value }
                    }
                }
                let first = try await ids("/api/jobs")
                let added: Int64 = try await connection.query(
                    "INSERT INTO orchestrator.jobs (kind, enqueued_by) VALUES ('noop', 'tests') RETURNING id"
                ).rows[0].decode("id")
                // Still fresh: the same page. Another URL: rendered now, with the new job.
                #expect(try await ids("/api/jobs") == first)
                #expect(try await ids("/api/jobs?limit=49").first == added)
                // A bad parameter is answered fresh every time and never kept.
                for _ in 0..<2 {
                    try await client.execute(uri: "/api/jobs?state=bogus", method: .get, headers: bearer) { #expect($0.status == .badRequest) }
                }
                // An action clears every page: the list shows the job it cancelled at once.
                try await client.execute(uri: "/jobs/\(added)/cancel", method: .post, headers: bearer) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/jobs", method: .get, headers: bearer) { response in
                    let json = try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String: Any])
                    let top = try #require((json["jobs"] as? [[String: Any]])?.first)
                    #expect((top["id"] as? NSNumber)?.int64Value == added)
                    #expect(top["state"] as? String == "cancelled")
                }
            }
        }
    }

    @Test func manyDistinctURLsKeepTheCacheBounded() async throws {
        let cache = PageCache(freshFor: .seconds(60))
        for n in 0..<(PageCache.maximumEntries * 3) {
            let request = Request(head: .init(method: .get, scheme: "http", authority: "localhost", path: "/jobs?target=t\(n)"), body: .init(buffer: ByteBuffer()))
            let response = try await cache.page(request) { RenderedPage(contentType: "text/plain", body: ByteBuffer(string: "\(n)")) }
            #expect(response.status == .ok)
        }
        #expect(cache.count <= PageCache.maximumEntries)
    }
}
