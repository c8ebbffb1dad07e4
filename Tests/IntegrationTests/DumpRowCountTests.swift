@testable import Backups
import Foundation
import PostgresClient
@testable import Settings
@testable import Support
import TestSupport
import Testing

/// The manifest's row counts come from the dump's own COPY data, never from `count(*)` on the
/// live server; they must be exactly what `count(*)` said, for every ordinary table, whatever
/// its name.
@Suite("Row counts from the dump", .serialized)
struct DumpRowCountTests: BackupFixture {
    /// Names pg_dump must quote, names that look like COPY syntax, a newline inside a column and
    /// a sequence name, empty tables, a table without columns, partitions, a value `\.`.
    static let hostileSchema = #"""
        CREATE SCHEMA "Sch ema.x";
        CREATE TABLE "Sch ema.x"."t FROM stdin; y" ("a
        FROM stdin;" text, b int);
        INSERT INTO "Sch ema.x"."t FROM stdin; y" VALUES ('\.', 1), (E'line\nbreak', 2), (NULL, NULL), ('', 4);
        CREATE TABLE "COPY public.trades (id) FROM stdin;" (x int);
        INSERT INTO "COPY public.trades (id) FROM stdin;" SELECT generate_series(1, 7);
        CREATE TABLE "ünïcödé 表" (id int);
        INSERT INTO "ünïcödé 表" VALUES (1), (2);
        CREATE TABLE empty (id int);
        CREATE TABLE nocols ();
        INSERT INTO nocols DEFAULT VALUES; INSERT INTO nocols DEFAULT VALUES;
        CREATE TABLE readings (k int NOT NULL, v text) PARTITION BY RANGE (k);
        CREATE TABLE readings_low PARTITION OF readings FOR VALUES FROM (0) TO (100);
        CREATE TABLE readings_high PARTITION OF readings FOR VALUES FROM (100) TO (1000);
        INSERT INTO readings SELECT i, 'r' || i FROM generate_series(0, 249) i;
        CREATE UNLOGGED TABLE scratchpad (x int);
        INSERT INTO scratchpad VALUES (1);
        CREATE SEQUENCE "s
        COPY public.fake (x) FROM stdin;";
        SELECT nextval('"s
        COPY public.fake (x) FROM stdin;"');
        """#

    /// The old way: `count(*)` of every ordinary table, as the restore drill counts them.
    static func countsOnServer(_ connection: PostgresConnection) async throws -> [BackupManifest.TableCount] {
        let tables = try await connection.query("""
            SELECT n.nspname AS schema, c.relname AS table
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
            ORDER BY 1, 2
            """)
        var counts: [BackupManifest.TableCount] = []
        for row in tables.rows {
            let schema: String = try row.decode("schema")
            let table: String = try row.decode("table")
            let rows: Int64 = try await connection.query(
                "SELECT count(*) AS n FROM ONLY \(try SQLIdentifier.quoted(schema)).\(try SQLIdentifier.quoted(table))"
            ).single().decode("n")
            counts.append(.init(schema: schema, table: table, rows: rows))
        }
        return counts
    }

    @Test func countsFromTheDumpEqualCountStarForHostileNamesEmptyTablesAndPartitions() async throws {
        try await withBackupHarness { harness, scratch, _ in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await connection.execute(Self.hostileSchema)
            #expect(try await backUp(harness).state == "succeeded")
            let record = try #require(try await BackupCatalog.find("latest", on: connection))
            let manifest = try BackupManifest.decode(try Data(contentsOf: URL(fileURLWithPath: record.location + "/manifest.json")))
            // The orchestrator's own tables live in this database too and changed after the backup
            // (its catalog row); every other table must match exactly, in the same order.
            let expected = try await Self.countsOnServer(connection).filter { $0.schema != "orchestrator" }
            #expect(manifest.databases[0].tables.filter { $0.schema != "orchestrator" } == expected)
            #expect(expected.count == 10)
            let byName = Dictionary(uniqueKeysWithValues: expected.map { ($0.schema + "." + $0.table, $0.rows) })
            #expect(byName["Sch ema.x.t FROM stdin; y"] == 4)
            #expect(byName["public.empty"] == 0)
            #expect(byName["public.nocols"] == 2)
            #expect(byName["public.readings_low"] == 100 && byName["public.readings_high"] == 150)
            #expect(byName["public.readings"] == nil, "a partitioned parent holds no rows of its own")
            #expect(byName["public.trades"] == 20000)
            #expect(manifest.databases[0].tables.allSatisfy { $0.countedOnServer == nil })
            // The catalogued backup verifies, recounting from the dump.
            let report = try await BackupVerifier(logger: Harness.logger).verify(directory: record.location, manifestSHA256: record.manifestSHA256)
            #expect(report.files == manifest.files.count)
            _ = scratch
        }
    }

    @Test func aRecountThatDiffersFromTheManifestFailsNamingTheTable() async throws {
        try await withBackupHarness { harness, scratch, _ in
            #expect(try await backUp(harness).state == "succeeded")
            let connection = try await harness.connect()
            defer { connection.close() }
            let record = try #require(try await BackupCatalog.find("latest", on: connection))
            let copy = scratch + "/edited"
            try FileManager.default.copyItem(atPath: record.location, toPath: copy)
            var manifest = try BackupManifest.decode(try Data(contentsOf: URL(fileURLWithPath: copy + "/manifest.json")))
            let index = try #require(manifest.databases[0].tables.firstIndex { $0.table == "Odd \"Name\" here" })
            manifest.databases[0].tables[index].rows = 4
            try manifest.encoded().write(to: URL(fileURLWithPath: copy + "/manifest.json"))
            // No catalogued checksum to compare with: only the recount can notice.
            let error = await #expect(throws: BackupError.self) {
                _ = try await BackupVerifier(logger: Harness.logger).verify(directory: copy, manifestSHA256: nil)
            }
            #expect(error?.description == #"dump db/app.dump: table "public"."Odd ""Name"" here" has 3 rows, the manifest says 4 (the dump changed after the backup)"#)

            // A table the manifest does not list, or one the dump does not hold, fails too.
            manifest.databases[0].tables[index].rows = 3
            let dropped = manifest.databases[0].tables.remove(at: index)
            try manifest.encoded().write(to: URL(fileURLWithPath: copy + "/manifest.json"))
            let extra = await #expect(throws: BackupError.self) {
                _ = try await BackupVerifier(logger: Harness.logger).verify(directory: copy, manifestSHA256: nil)
            }
            #expect(extra?.description.contains(#"holds data for table "public"."Odd ""Name"" here", which the manifest does not list"#) == true)
            manifest.databases[0].tables.append(.init(schema: "public", table: "ghost", rows: 0))
            manifest.databases[0].tables.append(dropped)
            try manifest.encoded().write(to: URL(fileURLWithPath: copy + "/manifest.json"))
            let missing = await #expect(throws: BackupError.self) {
                _ = try await BackupVerifier(logger: Harness.logger).verify(directory: copy, manifestSHA256: nil)
            }
            #expect(missing?.description.contains(#"has no data for table "public"."ghost""#) == true)
        }
    }

    @Test func aTruncatedOrCorruptDumpFailsTheCountNamingTheFile() async throws {
        try await withBackupHarness { harness, scratch, _ in
            #expect(try await backUp(harness).state == "succeeded")
            let connection = try await harness.connect()
            defer { connection.close() }
            let record = try #require(try await BackupCatalog.find("latest", on: connection))
            let manifest = try BackupManifest.decode(try Data(contentsOf: URL(fileURLWithPath: record.location + "/manifest.json")))
            let dataFile = try #require(manifest.files.filter { $0.path.hasSuffix(".dat.gz") }.max { $0.bytes < $1.bytes }).path
            let counter = DumpRowCounter(pgRestore: try #require(ChildProcess.locate("pg_restore")), priority: .low)
            for damage in ["truncate", "corrupt"] {
                let copy = scratch + "/" + damage
                try FileManager.default.copyItem(atPath: record.location, toPath: copy)
                let file = try FileHandle(forUpdating: URL(fileURLWithPath: copy + "/" + dataFile))
                if damage == "truncate" {
                    try file.truncate(atOffset: try file.seekToEnd() / 2)
                } else {
                    try file.seek(toOffset: 200)
                    try file.write(contentsOf: Data(repeating: 0x55, count: 64))
                }
                try file.close()
                let error = await #expect(throws: BackupError.self) {
                    _ = try await counter.count(dump: copy + "/db/app.dump", named: "db/app.dump")
                }
                #expect(error?.description.hasPrefix("dump db/app.dump cannot be read end to end: pg_restore") == true, "\(damage): \(error?.description ?? "no error")")
            }
            // The intact dump counts what the manifest says.
            let counted = try await counter.count(dump: record.location + "/db/app.dump", named: "db/app.dump")
            try DumpRowCounter.compare(counted, with: manifest.databases[0].tables, dump: "db/app.dump")
            #expect(counted[.init(schema: "public", table: "trades")] == 20000)
        }
    }
}
