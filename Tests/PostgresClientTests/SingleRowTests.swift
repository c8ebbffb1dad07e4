import PostgresClient
import Testing
import TestSupport

@Suite("One-row results")
struct SingleRowTests {
    @Test func singleReturnsTheOnlyRowAndThrowsOnAnyOtherCount() async throws {
        try await TestDatabase.with { database in
            let connection = try await database.connect()
            defer { connection.close() }
            let one = try await connection.query("SELECT 42 AS n").single()
            #expect(try one.decode("n", as: Int.self) == 42)

            let none = try await #require(throws: PostgresError.self) {
                try await connection.query("SELECT 1 AS n WHERE false").single()
            }
            #expect(none.code == .unexpectedRowCount)
            #expect(none.description == "expected one row, got 0")

            let two = try await #require(throws: PostgresError.self) {
                try await connection.query("SELECT generate_series(1, 2) AS n").single()
            }
            #expect(two.code == .unexpectedRowCount)
            #expect(two.description == "expected one row, got 2")
            #expect(!two.isConnectionProblem)
        }
    }
}
