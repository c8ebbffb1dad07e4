import Foundation
import Hummingbird
import Mustache
@testable import OrchestratorWeb
import Queue
import Testing

/// Rows that give the template their fields by name (`MustacheParent`) instead of through
/// reflection must give every field: a field added to the struct and not to its lookup would
/// render as nothing, silently.
@Suite("Dashboard row lookups")
struct DashboardRowLookupTests {
    static func missing(_ value: some MustacheParent) -> [String] {
        Mirror(reflecting: value).children.compactMap(\.label).filter { value.child(named: $0) == nil }
    }

    @Test func everyFieldOfEveryLookedUpRowIsGiven() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            let view = try await BackupCatalogView.load(configuration: harness.configuration, limit: 10, on: connection)
            let backups = BackupsPage(view, formToken: "f0")
            let profile = try #require(backups.profiles.first)
            #expect(Self.missing(profile) == [])
            #expect(Self.missing(try #require(profile.backups.first)) == [])

            let request = Request(head: .init(method: .get, scheme: "http", authority: "localhost", path: "/jobs"), body: .init(buffer: ByteBuffer()))
            let query = try JobsQuery(request, kinds: ["vacuum"])
            let jobs = try await JobQueue.list(query.filter(now: Date()), on: connection)
            let page = JobsPage(jobs, query: query, kinds: ["vacuum"], schedules: nil, now: Date())
            #expect(Self.missing(try #require(page.jobs.first)) == [])
            #expect(Self.missing(try #require(page.states.first)) == [])
        }
    }
}
