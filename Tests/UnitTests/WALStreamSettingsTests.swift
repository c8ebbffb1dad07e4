import Settings
import Testing

@Suite("WAL stream settings")
struct WALStreamSettingsTests {
    @Test func aStreamNeedsAConfiguredDatabaseASafeSlotNameAndAbsolutePaths() throws {
        let good = try Configuration.parse(yaml: """
            databases: {trading: {dbname: trading_agent}}
            wal_archive: {repository: /var/backups/wal}
            wal_stream: {database: trading, spool: /var/lib/orchestrator/wal-stream}
            """)
        #expect(good.walStream == WALStreamSettings(database: "trading", spool: "/var/lib/orchestrator/wal-stream"))
        #expect(good.walStream?.slot == "orchestrator")
        #expect(good.validate().isEmpty)
        #expect(try Configuration.parse(yaml: "databases: {trading: {dbname: t}}\n").walStream == nil)

        let cases: [(String, String)] = [
            ("{database: other, spool: /s}", "wal_stream.database"),
            ("{database: trading, slot: \"x; DROP\", spool: /s}", "wal_stream.slot"),
            ("{database: trading, slot: Upper, spool: /s}", "wal_stream.slot"),
            ("{database: trading, spool: spool}", "wal_stream.spool"),
            ("{database: trading, spool: /s/../x}", "wal_stream.spool"),
            ("{database: trading, spool: /r}", "wal_stream.spool"),
            ("{database: trading, spool: /s, slots: x}", "slots"),
        ]
        for (section, path) in cases {
            do {
                let problems = try Configuration.parse(yaml: "databases: {trading: {dbname: t}}\nwal_archive: {repository: /r}\nwal_stream: \(section)\n").validate()
                #expect(problems.contains { $0.path == path }, "\(section): \(problems)")
            } catch {
                #expect(error.description.contains(path), "\(section): \(error.description)")
            }
        }
    }

    @Test func aStreamNeedsTheWALRepository() throws {
        let problems = try Configuration.parse(yaml: "databases: {trading: {dbname: t}}\nwal_stream: {database: trading, spool: /s}\n").validate()
        #expect(problems.contains { $0.path == "wal_stream" && $0.description.contains("wal_archive.repository") }, "\(problems)")
    }
}
