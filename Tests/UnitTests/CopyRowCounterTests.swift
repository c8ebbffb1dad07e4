@testable import Backups
import Foundation
import Testing

@Suite("Row counts from a dump's COPY data")
struct CopyRowCounterTests {
    /// What `pg_restore --data-only --file=-` writes, with names pg_dump had to quote and traps
    /// outside the data: a sequence whose name holds a newline and `COPY`, comments, a value `\.`.
    static let stream = #"""
        --
        -- PostgreSQL database dump
        --

        SET statement_timeout = 0;
        SELECT pg_catalog.set_config('search_path', '', false);

        --
        -- Data for Name: Odd "Name" here; Type: TABLE DATA; Schema: public; Owner: postgres
        --

        COPY public."Odd ""Name"" here" (x) FROM stdin;
        1
        2
        3
        \.


        COPY "Sch ema.x"."t FROM stdin; y" ("a
        FROM stdin;", b) FROM stdin;
        \\.	x
        	\N

        \.


        COPY public.empty (id) FROM stdin;
        \.


        COPY public."ünïcödé 表" (id) FROM stdin;
        1
        \.


        COPY public.nocols  FROM stdin;


        \.


        SELECT pg_catalog.setval('public."s
        COPY public.fake (x) FROM stdin;', 1, false);
        -- COPY public.commented (x) FROM stdin;

        """#

    static let expected: [(String, String, Int64)] = [
        ("public", "Odd \"Name\" here", 3), ("Sch ema.x", "t FROM stdin; y", 3), ("public", "empty", 0),
        ("public", "ünïcödé 表", 1), ("public", "nocols", 2),
    ]

    static func count(_ text: String, chunk: Int) throws -> [(table: CopyRowCounter.Table, rows: Int64)] {
        var counter = CopyRowCounter()
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(start + chunk, bytes.count)
            try bytes[start..<end].withUnsafeBytes { try counter.consume($0) }
            start = end
        }
        return try counter.finish()
    }

    @Test(arguments: [1, 2, 3, 5, 7, 64, 1 << 20])
    func everyTableIsCountedExactlyWhateverTheChunks(chunk: Int) throws {
        let tables = try Self.count(Self.stream, chunk: chunk)
        #expect(tables.map(\.table.schema) == Self.expected.map(\.0))
        #expect(tables.map(\.table.table) == Self.expected.map(\.1))
        #expect(tables.map(\.rows) == Self.expected.map(\.2))
    }

    @Test func aStreamCutInsideTheDataFailsNamingTheTable() throws {
        let cut = String(Self.stream[..<Self.stream.range(of: "2\n3")!.upperBound])
        let error = #expect(throws: CopyRowCounter.Failure.self) { try Self.count(cut, chunk: 4096) }
        #expect(error?.description.contains(#""public"."Odd ""Name"" here""#) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("truncated") == true)
    }

    @Test func aStreamCutInsideACopyLineFails() throws {
        let cut = String(Self.stream[..<Self.stream.range(of: "(\"a\nFROM")!.upperBound])
        #expect(throws: CopyRowCounter.Failure.self) { try Self.count(cut, chunk: 3) }
    }

    @Test func aTableTwiceIsRefused() throws {
        let twice = "COPY public.t (x) FROM stdin;\n1\n\\.\nCOPY public.t (x) FROM stdin;\n\\.\n"
        let error = #expect(throws: CopyRowCounter.Failure.self) { try Self.count(twice, chunk: 10) }
        #expect(error?.description.contains("twice") == true)
    }

    @Test func aMalformedCopyLineIsRefused() throws {
        #expect(throws: CopyRowCounter.Failure.self) { try Self.count("COPY public.t (x) TO stdout;\n\\.\n", chunk: 10) }
        #expect(throws: CopyRowCounter.Failure.self) { try Self.count("COPY \"unterminated (x) FROM stdin;\n", chunk: 10) }
    }
}
