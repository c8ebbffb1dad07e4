import Foundation
import PostgresClient
import Testing
import TestSupport

@Suite("Prepared statements")
struct PreparedStatementTests {
    @Test func aStatementIsPreparedOnceAndRunsWithNewParametersEachTime() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            let statement = PreparedStatement("SELECT $1::bigint * 2 AS doubled, $2::text AS label")
            for value in [Int64(1), 21, 1_000_000] {
                let row = try #require(try await connection.query(statement, [value, "x'); DROP TABLE t; --"]).first)
                #expect(try row.decode("doubled", as: Int64.self) == value * 2)
                #expect(try row.decode("label", as: String.self) == "x'); DROP TABLE t; --")
            }
            let prepared = try await connection.query(
                "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", [statement.sql]
            )
            #expect(try prepared.first?.decode("n", as: Int.self) == 1)
        }
    }

    @Test func aStatementThatFailsToPrepareReportsTheErrorEveryTime() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            let broken = PreparedStatement("SELECT * FROM no_such_table WHERE id = $1")
            for _ in 0..<2 {
                do {
                    _ = try await connection.query(broken, [1])
                    Issue.record("a statement on a missing table ran")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "42P01")
                }
            }
            // Once the table exists the same statement prepares and runs.
            try await connection.execute("CREATE TABLE no_such_table (id int); INSERT INTO no_such_table VALUES (1)")
            #expect(try await connection.query(broken, [1]).rows.count == 1)
        }
    }
}
