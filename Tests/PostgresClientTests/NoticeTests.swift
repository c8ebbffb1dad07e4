import Foundation
import PostgresClient
import Synchronization
import Testing
import TestSupport

@Suite("Server notices")
struct NoticeTests {
    @Test func warningsAndNoticesAreKeptAndPassedToTheHandler() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            let seen = Mutex<[String]>([])
            connection.onNotice { notice in seen.withLock { $0.append(notice.message) } }
            try await connection.execute("""
                DO $$ BEGIN
                  RAISE WARNING 'first %', 1 USING HINT = 'do this';
                  RAISE NOTICE 'second' USING ERRCODE = '01P01';
                END $$
                """)
            let notices = connection.takeNotices()
            #expect(notices == [
                PostgresNotice(severity: "WARNING", sqlState: "01000", message: "first 1", hint: "do this"),
                PostgresNotice(severity: "NOTICE", sqlState: "01P01", message: "second"),
            ])
            #expect(seen.withLock { $0 } == ["first 1", "second"])
            #expect(connection.takeNotices().isEmpty)  // taken once
        }
    }

    @Test func vacuumOfATableTheRoleMayNotMaintainSaysSoOnlyInANotice() async throws {
        try await TestDatabase.with { database in
            let admin = try await database.connect()
            defer { admin.close() }
            try await admin.execute("CREATE TABLE owned_by_admin (id int)")
            try await TestRole.with(in: database) { role in
                let connection = try await role.connect()
                defer { connection.close() }
                try await connection.execute("VACUUM owned_by_admin")  // succeeds while doing nothing
                let notices = connection.takeNotices()
                #expect(notices.count == 1)
                #expect(notices.first?.isWarning == true)
                #expect(notices.first?.message.contains("owned_by_admin") == true)
            }
        }
    }
}
