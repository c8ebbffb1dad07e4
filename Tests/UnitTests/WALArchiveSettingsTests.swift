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
}
