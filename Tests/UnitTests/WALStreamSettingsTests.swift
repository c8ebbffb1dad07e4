import Settings
import Testing

@Suite("WAL stream settings")
struct WALStreamSettingsTests {
    @Test func aStreamNeedsAConfiguredDatabaseASafeSlotNameAndAbsolutePaths() throws {
        let good = try Configuration.parse(yaml: """
            databases: {trading: {dbname: trading_agent}}
            wal_stream: {database: trading, spool: /var/lib/orchestrator/wal-stream, repository: /var/backups/wal}
            """)
        #expect(good.walStream == WALStreamSettings(database: "trading", spool: "/var/lib/orchestrator/wal-stream", repository: "/var/backups/wal"))
        #expect(good.walStream?.slot == "orchestrator")
        #expect(good.validate().isEmpty)
        #expect(try Configuration.parse(yaml: "databases: {trading: {dbname: t}}\n").walStream == nil)

        let cases: [(String, String)] = [
            ("{database: other, spool: /s, repository: /r}", "wal_stream.database"),
            ("{database: trading, slot: \"x; DROP\", spool: /s, repository: /r}", "wal_stream.slot"),
            ("{database: trading, slot: Upper, spool: /s, repository: /r}", "wal_stream.slot"),
            ("{database: trading, spool: spool, repository: /r}", "wal_stream.spool"),
            ("{database: trading, spool: /s, repository: /r/../x}", "wal_stream.repository"),
            ("{database: trading, spool: /r, repository: /r}", "wal_stream.spool"),
            ("{database: trading, spool: /s, repository: /r, slots: x}", "slots"),
        ]
        for (section, path) in cases {
            do {
                let problems = try Configuration.parse(yaml: "databases: {trading: {dbname: t}}\nwal_stream: \(section)\n").validate()
                #expect(problems.contains { $0.path == path }, "\(section): \(problems)")
            } catch {
                #expect(error.description.contains(path), "\(section): \(error.description)")
            }
        }
    }
}
