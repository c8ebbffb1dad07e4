import Foundation
import PostgresClient
@testable import Queue
@testable import Runtime
import Support
import TestSupport
import Testing

/// Jobs whose stored arguments this version does not accept (enqueued by another version, or
/// written by hand): the worker fails each at once, naming the argument, and goes on.
@Suite("Stored arguments")
struct StoredArgumentsTests {
    @Test func aJobWhoseArgumentsNoLongerDecodeFailsForGoodNamingTheArgument() async throws {
        try await Harness.with { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            let cases: [(args: String, named: String)] = [
                (#"{"ms": "soon"}"#, #"argument ms: "soon" is not an integer"#),
                (#"{"ms": 86400001}"#, "argument ms: 86400001 is out of range 0...86400000"),
                (#"{"colour": "red"}"#, #"noop has no argument "colour""#),
            ]
            var ids: [Int64] = []
            for testCase in cases {
                let row = try await connection.query(
                    """
                    INSERT INTO orchestrator.jobs (kind, args, queue, max_attempts, timeout_seconds, enqueued_by)
                    VALUES ('noop', $1::jsonb, 'default', 3, 60, 'tests') RETURNING id
                    """,
                    [testCase.args]
                ).single()
                ids.append(try row.decode("id"))
            }
            let fine = try await harness.enqueue(["ms": "1"], on: connection)
            try await harness.worker(drain: true).run()

            for (id, testCase) in zip(ids, cases) {
                let job = try #require(try await JobQueue.job(id: id, on: connection))
                #expect(job.state == .failed, "\(testCase.args)")
                #expect(job.attempts == 1, "not retried: \(testCase.args)")
                #expect(job.lastError?.contains(testCase.named) == true, "\(job.lastError ?? "no error")")
                #expect(job.lastError?.contains("enqueue the job again") == true)
            }
            #expect(try await harness.state(of: fine, on: connection) == "succeeded")
        }
    }
}
