import Foundation
import Hummingbird
import HummingbirdTesting
@testable import OrchestratorWeb
import PostgresClient
@testable import Scheduling
@testable import Settings
import Testing

/// Schedules on `/jobs` and `/api/schedules`: the last and next occurrence, late and missed
/// occurrences of the last 30 days, and an occurrence no scheduler decided (overdue).
@Suite("Dashboard schedules")
struct DashboardSchedulesTests {
    static let configuration = Configuration(schedules: [
        ScheduleDefinition(name: "nächtlich", cron: "0 * * * *", kind: "vacuum", target: DashboardFixture.hostile),
        ScheduleDefinition(name: "stalled", cron: "*/5 * * * *", kind: "noop"),
        ScheduleDefinition(name: "off", cron: "*/5 * * * *", kind: "noop", enabled: false),
    ])

    /// `nächtlich` ran on time at the start of this hour after two late runs and a missed range of five this
    /// month (and one missed run 40 days ago, outside the window); `stalled` was last decided
    /// an hour ago although it runs every five minutes; `off` is disabled and as old.
    static func populate(_ connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO orchestrator.schedules (name, cron, time_zone, kind, target, queue, enabled, catch_up_seconds, first_seen_at)
            VALUES ('nächtlich', '0 * * * *', 'UTC', 'vacuum', $1, 'default', true, 3600, now() - interval '60 days'),
                   ('stalled', '*/5 * * * *', 'UTC', 'noop', NULL, 'default', true, 3600, now() - interval '2 hours'),
                   ('off', '*/5 * * * *', 'UTC', 'noop', NULL, 'default', false, 3600, now() - interval '2 hours')
            """,
            [DashboardFixture.hostile]
        )
        try await connection.query(
            """
            INSERT INTO orchestrator.jobs (kind, target, state, enqueued_by, schedule_name, scheduled_for, finished_at)
            VALUES ('vacuum', $1, 'succeeded', 'scheduler', 'nächtlich', date_trunc('hour', now()), now())
            """,
            [DashboardFixture.hostile]
        )
        try await connection.query(
            """
            INSERT INTO orchestrator.schedule_occurrences (schedule_name, scheduled_for, outcome, job_id, recorded_by, occurrences, last_occurrence)
            VALUES ('nächtlich', date_trunc('hour', now()) - interval '40 days', 'missed', NULL, 'tests', 1, NULL),
                   ('nächtlich', date_trunc('hour', now()) - interval '10 days', 'missed', NULL, 'tests', 5, date_trunc('hour', now()) - interval '10 days' + interval '4 hours'),
                   ('nächtlich', date_trunc('hour', now()) - interval '5 days', 'late', NULL, 'tests', 1, NULL),
                   ('nächtlich', date_trunc('hour', now()) - interval '3 days', 'late', NULL, 'tests', 1, NULL),
                   ('nächtlich', date_trunc('hour', now()), 'on_time', (SELECT max(id) FROM orchestrator.jobs), 'tests', 1, NULL),
                   ('stalled', date_trunc('hour', now()) - interval '1 hour', 'on_time', NULL, 'tests', 1, NULL),
                   ('off', date_trunc('hour', now()) - interval '1 hour', 'on_time', NULL, 'tests', 1, NULL)
            """
        )
    }

    @Test func statusCountsTheLastThirtyDaysAndFindsAnOverdueOccurrence() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await Self.populate(connection)
            let statuses = try await ScheduleStatus.load(configuration: harness.configuration, on: connection)
            let byName = Dictionary(uniqueKeysWithValues: statuses.map { ($0.name, $0) })

            let nightly = try #require(byName["nächtlich"])
            #expect(nightly.recentLate == 2)
            #expect(nightly.recentMissed == 5)
            #expect(nightly.lastOutcome == "on_time")
            #expect(nightly.lastJobState == .succeeded)
            // The newest irregular occurrence is the late one three days ago.
            let lateAge = try #require(nightly.lastIrregular).distance(to: Date())
            #expect(abs(lateAge - 3 * 86_400) < 3700)
            // Its next occurrence is within the coming hour, so nothing is overdue.
            #expect(nightly.overdueSince == nil)

            let stalled = try #require(byName["stalled"])
            let overdue = try #require(stalled.overdueSince)
            #expect(overdue == stalled.lastScheduledFor!.addingTimeInterval(300))
            #expect(stalled.recentLate == 0 && stalled.recentMissed == 0)

            // A disabled schedule is never overdue, however old its last occurrence.
            let off = try #require(byName["off"])
            #expect(off.overdueSince == nil)
            #expect(off.enabled == false)
        }
    }

    @Test func aScheduleNoWorkerHasSeenIsNotOverdueButOneSeenLongAgoIs() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            // No rows at all: no worker ever ran with this configuration; nothing to measure against.
            let fresh = try await ScheduleStatus.load(configuration: harness.configuration, on: connection)
            #expect(fresh.allSatisfy { $0.overdueSince == nil && $0.lastScheduledFor == nil && $0.recentMissed == 0 })
            // Seen two hours ago and never decided since: overdue from its first occurrence.
            try await connection.query(
                """
                INSERT INTO orchestrator.schedules (name, cron, time_zone, kind, queue, enabled, catch_up_seconds, first_seen_at)
                VALUES ('stalled', '*/5 * * * *', 'UTC', 'noop', 'default', true, 3600, now() - interval '2 hours')
                """
            )
            let seen = try await ScheduleStatus.load(configuration: harness.configuration, on: connection)
            let stalled = try #require(seen.first { $0.name == "stalled" })
            let since = try #require(stalled.overdueSince)
            #expect(since.distance(to: Date()) > 6600 && since.distance(to: Date()) < 7200)
        }
    }

    @Test func jobsPageShowsSchedulesEscapedAndTheJSONCarriesTheCounts() async throws {
        try await Harness.with(configuration: Self.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await Self.populate(connection)
            let jobID: Int64 = try await connection.query("SELECT max(id) AS id FROM orchestrator.jobs").rows[0].decode("id")
            try await DashboardFixture.test(harness) { client in
                try await client.execute(uri: "/jobs", method: .get) { response in
                    #expect(response.status == .ok)
                    let page = response.text
                    #expect(page.contains("<h2>Schedules</h2>"))
                    #expect(page.contains("<tr class=\"warning\"><td>nächtlich</td><td>0 * * * * UTC</td><td>vacuum &lt;script&gt;alert(1)&lt;/script&gt;</td>"))
                    #expect(page.contains("(on_time, job succeeded) <a href=\"/jobs/\(jobID)\">#\(jobID)</a>"))
                    #expect(page.contains("2 late, 5 missed; last 3.0 days ago"))
                    #expect(page.contains("<tr class=\"critical\"><td>stalled</td>"))
                    #expect(page.contains("<td class=\"wrap\">overdue since ") && page.contains(" ago; 0 late, 0 missed</td>"))
                    #expect(page.contains("<tr class=\"unknown\"><td>off</td>") && page.contains("<td>disabled</td>"))
                    #expect(!page.contains("<script"))
                }
                // Older pages of jobs do not repeat the schedules.
                try await client.execute(uri: "/jobs?before=\(jobID)", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(!response.text.contains("<h2>Schedules</h2>"))
                }
                try await client.execute(uri: "/api/schedules", method: .get) { response in
                    #expect(response.status == .ok)
                    let rows = try #require(JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [[String: Any]])
                    #expect(rows.map { $0["name"] as? String } == ["nächtlich", "stalled", "off"])
                    #expect(rows[0]["recentLate"] as? Int == 2)
                    #expect(rows[0]["recentMissed"] as? Int == 5)
                    #expect(rows[0]["target"] as? String == DashboardFixture.hostile)
                    #expect(rows[1]["overdueSince"] is String)
                    #expect(rows[2]["overdueSince"] == nil)
                }
            }
        }
    }
}
