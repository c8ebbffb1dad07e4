import Foundation
import PostgresClient
import Testing
import TestSupport

@Suite("PostgresConnection against a real server")
struct PostgresConnectionTests {
    @Test func parametersRoundTripAsValuesNotSQL() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            let hostile = "x'); DROP TABLE users; --"
            let row = try #require(try await connection.query(
                "SELECT $1::text AS text, $2::bigint AS number, $3::boolean AS flag, $4::text AS missing",
                [hostile, Int64(42), true, nil]
            ).first)
            #expect(try row.decode("text", as: String.self) == hostile)
            #expect(try row.decode("number", as: Int64.self) == 42)
            #expect(try row.decode("flag", as: Bool.self) == true)
            #expect(try row.decodeIfPresent("missing", as: String.self) == nil)
        }
    }

    @Test func timestampsRoundTripInUTC() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            let instant = Date(timeIntervalSince1970: 1_790_000_000.123456)
            let row = try #require(try await connection.query(
                "SELECT $1::timestamptz AS at, extract(epoch FROM $1::timestamptz)::float8 AS epoch", [instant]
            ).first)
            let decoded = try row.decode("at", as: Date.self)
            #expect(abs(decoded.timeIntervalSince1970 - instant.timeIntervalSince1970) < 0.000_01)
            #expect(abs(try row.decode("epoch", as: Double.self) - 1_790_000_000.123456) < 0.000_01)
        }
    }

    @Test func serverErrorsCarrySQLStateAndNoSQLText() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            try await connection.execute("CREATE TABLE t (id int PRIMARY KEY)")
            try await connection.query("INSERT INTO t VALUES ($1)", [1])
            let error = try await #require(throws: PostgresError.self) {
                try await connection.query("INSERT INTO t VALUES ($1)", [1])
            }
            #expect(error.sqlState == "23505")
            #expect(error.isUniqueViolation)
            #expect(!error.description.contains("INSERT"))
        }
    }

    @Test func transactionRollsBackOnError() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            try await connection.execute("CREATE TABLE t (id int)")
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await connection.transaction { tx in
                    try await tx.query("INSERT INTO t VALUES (1)")
                    throw Boom()
                }
            }
            let count = try #require(try await connection.query("SELECT count(*) AS n FROM t").first)
            #expect(try count.decode("n", as: Int.self) == 0)
        }
    }

    @Test func notificationsArriveAndTimeoutReturnsEmpty() async throws {
        try await TestDatabase.with { database in
            let listener = try await database.connect()
            let sender = try await database.connect()
            defer { listener.close(); sender.close() }
            try await listener.listen("orchestrator_test")
            let nothing = try await listener.waitForNotifications(timeout: .milliseconds(50))
            #expect(nothing.isEmpty)
            try await sender.query("SELECT pg_notify($1, $2)", ["orchestrator_test", "hello"])
            let received = try await listener.waitForNotifications(timeout: .seconds(5))
            #expect(received.map(\.payload) == ["hello"])
            #expect(received.first?.senderPID == sender.backendPID)
        }
    }

    @Test func cancellingTheTaskCancelsTheStatement() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            let started = ContinuousClock.now
            let task = Task { try await connection.query("SELECT pg_sleep(30)") }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            let error = await #expect(throws: PostgresError.self) { try await task.value }
            #expect(error?.isQueryCanceled == true)
            #expect(ContinuousClock.now - started < .seconds(10))
            // The session stays usable after a cancelled statement.
            let row = try #require(try await connection.query("SELECT 1 AS one").first)
            #expect(try row.decode("one", as: Int.self) == 1)
        }
    }

    @Test func connectionFailureNamesTheCauseWithoutPassword() async throws {
        let configuration = ConnectionConfiguration(connectionString: "postgresql://someone:s3cret-pw@127.0.0.1:1/db?connect_timeout=2")
        let error = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect(configuration)
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.description.contains("s3cret-pw") == false)
        #expect(!configuration.description.contains("s3cret-pw"))
    }

    @Test func identifiersAreQuotedOrRejected() throws {
        #expect(try SQLIdentifier.quoted("trades") == "\"trades\"")
        #expect(try SQLIdentifier.quoted("trades; DROP TABLE x") == "\"trades; DROP TABLE x\"")
        #expect(try SQLIdentifier.quoted("a\"b") == "\"a\"\"b\"")
        #expect(throws: PostgresError.self) { try SQLIdentifier.quoted("") }
        #expect(throws: PostgresError.self) { try SQLIdentifier.quoted(String(repeating: "x", count: 64)) }
        #expect(SQLIdentifier.isPlain("trading_agent"))
        #expect(!SQLIdentifier.isPlain("Trading"))
        #expect(!SQLIdentifier.isPlain("a;b"))
    }
}

@Suite("Text arrays")
struct TextArrayTests {
    @Test func arraysRoundTripThroughTheServer() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            let values = ["plain", "with space", "quote\"d", "back\\slash", "comma,inside", ""]
            let row = try #require(try await connection.query("SELECT $1::text[] AS items", [values]).first)
            #expect(try row.decode("items", as: [String].self) == values)
            let empty = try #require(try await connection.query("SELECT '{}'::text[] AS items").first)
            #expect(try empty.decode("items", as: [String].self) == [])
        }
    }
}

@Suite("Connection configuration")
struct ConnectionConfigurationTests {
    @Test func toolsGetTheConnectionThroughTheEnvironment() {
        let configuration = ConnectionConfiguration(connectionString: "postgresql://app:s3cret@db.internal:6432/orchestrator?sslmode=require")
            .withDatabase("trading_agent")
        let environment = configuration.toolEnvironment
        #expect(environment["PGHOST"] == "db.internal")
        #expect(environment["PGPORT"] == "6432")
        #expect(environment["PGUSER"] == "app")
        #expect(environment["PGPASSWORD"] == "s3cret")
        #expect(environment["PGDATABASE"] == "trading_agent")
        #expect(environment["PGSSLMODE"] == "require")
        #expect(configuration.redactedParameters["password"] == nil)
        #expect(configuration.description == "db.internal:6432/trading_agent user=app")
    }
}
