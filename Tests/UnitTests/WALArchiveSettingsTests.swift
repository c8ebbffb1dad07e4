import Settings
import Testing

@Suite("WAL archive settings")
struct WALArchiveSettingsTests {
    @Test func theRepositoryIsReadFromItsOwnSmallFile() throws {
        let settings = try WALArchiveSettings.parse(yaml: "wal_archive:\n  repository: /var/lib/orchestrator/repository\n", file: "wal.yaml")
        #expect(settings.repository == "/var/lib/orchestrator/repository")
    }

    @Test func unknownKeysAndRelativePathsAreErrorsWithTheirPath() {
        #expect(throws: ConfigurationErrors.self) { try WALArchiveSettings.parse(yaml: "wal_archive:\n  repositry: /x\n", file: "wal.yaml") }
        #expect(throws: ConfigurationErrors.self) { try WALArchiveSettings.parse(yaml: "wal_archive:\n  repository: /x\ndatabase: {}\n", file: "wal.yaml") }
        do {
            _ = try WALArchiveSettings.parse(yaml: "wal_archive:\n  repository: repo\n", file: "wal.yaml")
            Issue.record("a relative repository was accepted")
        } catch {
            #expect(error.description.contains("wal_archive.repository: must be an absolute path"))
        }
        #expect(throws: ConfigurationErrors.self) { try WALArchiveSettings.load(path: "/nonexistent/wal.yaml") }
    }

    @Test func asynchronousArchivingIsOffByDefaultAndItsKeysAreChecked() throws {
        let plain = try WALArchiveSettings.parse(yaml: "wal_archive:\n  repository: /r\n", file: "wal.yaml")
        #expect(!plain.async && plain.spool == WALArchiveSettings.defaultSpool && plain.pushAhead == WALArchiveSettings.defaultPushAhead)
        let async = try WALArchiveSettings.parse(yaml: "wal_archive:\n  repository: /r\n  async: true\n  spool: /s\n  push_ahead: 4\n", file: "wal.yaml")
        #expect(async == WALArchiveSettings(repository: "/r", async: true, spool: "/s", pushAhead: 4))
        for (yaml, path) in [("spool: s", "wal_archive.spool"), ("push_ahead: 0", "wal_archive.push_ahead"), ("push_ahead: 1000", "wal_archive.push_ahead")] {
            do {
                _ = try WALArchiveSettings.parse(yaml: "wal_archive:\n  repository: /r\n  \(yaml)\n", file: "wal.yaml")
                Issue.record("\(yaml) was accepted")
            } catch {
                #expect(error.description.contains(path), "\(error.description)")
            }
        }
    }
}
