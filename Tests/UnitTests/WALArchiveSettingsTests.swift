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

@Suite("WAL archive in the main configuration")
struct WALArchiveConfigurationTests {
    @Test func theSectionIsOptionalWithDefaultsAndStrict() throws {
        #expect(try Configuration.parse(yaml: "worker: {concurrency: 2}\n").walArchive == nil)
        let configured = try Configuration.parse(yaml: "wal_archive:\n  repository: /srv/repository\n")
        #expect(configured.walArchive == WALArchiveSettings(repository: "/srv/repository", warnBehindMinutes: 5, scan: true))
        #expect(configured.validate().isEmpty)
        let tuned = try Configuration.parse(yaml: "wal_archive: {repository: /srv/r, warn_behind_minutes: 15, scan: false}\n")
        #expect(tuned.walArchive?.warnBehindMinutes == 15 && tuned.walArchive?.scan == false)
        #expect(throws: ConfigurationErrors.self) { try Configuration.parse(yaml: "wal_archive: {repository: /srv/r, warn_behind: 5}\n") }
        let bad = try Configuration.parse(yaml: "wal_archive: {repository: srv, warn_behind_minutes: 0}\n").validate().map(\.path)
        #expect(bad == ["wal_archive.repository", "wal_archive.warn_behind_minutes"])
        // The small file of wal-push accepts the same section.
        #expect(try WALArchiveSettings.parse(yaml: "wal_archive: {repository: /srv/r, warn_behind_minutes: 7}\n", file: "wal.yaml").warnBehindMinutes == 7)
    }

    @Test func theBuiltinWALAlertsHaveTheirOwnKeys() throws {
        let yaml = """
            alerts:
              builtin:
                wal_archive_behind: {after_minutes: 20}
                wal_archive_failing: {severity: warning}
                wal_archive_gap: {enabled: false}
            """
        let builtin = try Configuration.parse(yaml: yaml).alerts.builtin
        #expect(builtin.walArchiveBehind.limit == 20 && builtin.walArchiveBehind.severity == .warning)
        #expect(builtin.walArchiveFailing.severity == .warning && !builtin.walArchiveGap.enabled)
        #expect(throws: ConfigurationErrors.self) { try Configuration.parse(yaml: "alerts:\n  builtin:\n    wal_archive_gap: {after_minutes: 3}\n") }
    }

    @Test func theStreamAndSpoolAlertsDefaultSafelyAndTakeOnlyTheirOwnLimit() throws {
        let defaults = try Configuration.parse(yaml: "{}\n").alerts.builtin
        #expect(defaults.walStreamStopped == BuiltinAlertRule(severity: .critical, limit: 5))
        #expect(defaults.walSlotRetained == BuiltinAlertRule(severity: .critical, limit: 2048), "a slot filling the disk is critical")
        #expect(defaults.walSpoolBehind == BuiltinAlertRule(severity: .warning), "no limit: wal_archive.warn_behind_minutes")
        let yaml = """
            alerts:
              builtin:
                wal_stream_stopped: {after_minutes: 15, severity: warning}
                wal_slot_retained: {above_mb: 512}
                wal_spool_behind: {enabled: false}
            """
        let tuned = try Configuration.parse(yaml: yaml)
        #expect(tuned.alerts.builtin.walStreamStopped == BuiltinAlertRule(severity: .warning, limit: 15))
        #expect(tuned.alerts.builtin.walSlotRetained.limit == 512 && !tuned.alerts.builtin.walSpoolBehind.enabled)
        #expect(tuned.validate().isEmpty)
        // Each takes its own unit only: minutes are not megabytes.
        #expect(throws: ConfigurationErrors.self) { try Configuration.parse(yaml: "alerts:\n  builtin:\n    wal_slot_retained: {after_minutes: 3}\n") }
        #expect(throws: ConfigurationErrors.self) { try Configuration.parse(yaml: "alerts:\n  builtin:\n    wal_stream_stopped: {above_mb: 3}\n") }
        let bad = try Configuration.parse(yaml: "alerts:\n  builtin:\n    wal_slot_retained: {above_mb: 0}\n    wal_stream_stopped: {after_minutes: 0}\n")
        #expect(bad.validate().map(\.path).sorted() == ["alerts.builtin.wal_slot_retained.above_mb", "alerts.builtin.wal_stream_stopped.after_minutes"])
    }
}
