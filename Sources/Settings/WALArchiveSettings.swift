import Foundation
import Yams

/// The `wal_archive:` section. `wal-push` and `wal-get` read it from a file of their own: they
/// run as the `postgres` user from PostgreSQL's archive and restore commands, which must not
/// read the main configuration (it holds database URLs and secret references). The main
/// configuration has the same section, for archive health, base backups and restores:
///
///     wal_archive:
///       repository: /var/lib/orchestrator/repository
///       warn_behind_minutes: 5     # archive health only
///       scan: true
///       async: true                          # optional: archive through a background pusher
///       spool: /var/spool/orchestrator/wal   # its status files (default shown)
///       push_ahead: 16                       # files pushed ahead of PostgreSQL's calls
package struct WALArchiveSettings: Sendable, Equatable, Decodable {
    package static let defaultPath = "/etc/orchestrator/wal.yaml"
    package static let defaultSpool = "/var/spool/orchestrator/wal"
    package static let defaultPushAhead = 16
    package static let pushAheadRange = 1...256

    /// Absolute path of the repository; WAL goes under its `wal/` directory.
    package var repository: String
    /// Archiving is behind when a finished segment has waited this long (built-in alert
    /// `wal_archive_behind`, unless it sets its own `after_minutes`).
    package var warnBehindMinutes: Int
    /// Whether health sampling lists the repository (gaps, segments, bytes). Off for a
    /// repository this host cannot read, or a slow network mount.
    package var scan: Bool
    /// Whether `wal-push` answers from the spool, a background pusher doing the pushing.
    package var async: Bool
    /// Absolute path of the spool (one per cluster).
    package var spool: String
    package var pushAhead: Int

    package init(
        repository: String, warnBehindMinutes: Int = 5, scan: Bool = true, async: Bool = false, spool: String = Self.defaultSpool,
        pushAhead: Int = Self.defaultPushAhead
    ) {
        self.repository = repository
        self.warnBehindMinutes = warnBehindMinutes
        self.scan = scan
        self.async = async
        self.spool = spool
        self.pushAhead = pushAhead
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case repository, warnBehindMinutes = "warn_behind_minutes", scan, async, spool
        case pushAhead = "push_ahead"
    }

    private struct File: Decodable {
        let walArchive: WALArchiveSettings
        enum CodingKeys: String, CodingKey, CaseIterable {
            case walArchive = "wal_archive"
        }
        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            walArchive = try decoder.container(keyedBy: CodingKeys.self).decode(WALArchiveSettings.self, forKey: .walArchive)
        }
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        repository = try c.decode(String.self, forKey: .repository)
        warnBehindMinutes = try c.decode(.warnBehindMinutes, default: 5)
        scan = try c.decode(.scan, default: true)
        async = try c.decode(.async, default: false)
        spool = try c.decode(.spool, default: Self.defaultSpool)
        pushAhead = try c.decode(.pushAhead, default: Self.defaultPushAhead)
    }

    /// Problems with paths below `prefix` (`wal_archive`).
    package func validate(prefix: String = "wal_archive") -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        if !repository.hasPrefix("/") {
            problems.append(ConfigurationError(path: prefix + ".repository", "must be an absolute path, not \"\(repository)\""))
        }
        if !(1...10_080).contains(warnBehindMinutes) {
            problems.append(ConfigurationError(path: prefix + ".warn_behind_minutes", "must be 1...10080 (a week), got \(warnBehindMinutes)"))
        }
        if !spool.hasPrefix("/") {
            problems.append(ConfigurationError(path: prefix + ".spool", "must be an absolute path, not \"\(spool)\""))
        }
        if !Self.pushAheadRange.contains(pushAhead) {
            problems.append(ConfigurationError(path: prefix + ".push_ahead", "must be from \(Self.pushAheadRange.lowerBound) to \(Self.pushAheadRange.upperBound), not \(pushAhead)"))
        }
        return problems
    }

    /// Reads and checks the file; every problem names the file and the key.
    package static func load(path: String) throws(ConfigurationErrors) -> WALArchiveSettings {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationErrors(file: path, errors: [ConfigurationError(path: "", "cannot read it (\(error.localizedDescription)); pass --repository DIR instead, or make the file readable by the user PostgreSQL runs as")])
        }
        return try parse(yaml: text, file: path)
    }

    package static func parse(yaml: String, file: String) throws(ConfigurationErrors) -> WALArchiveSettings {
        let settings: WALArchiveSettings
        do {
            settings = try YAMLDecoder().decode(File.self, from: yaml).walArchive
        } catch let error as DecodingError {
            throw ConfigurationErrors(file: file, errors: [ConfigurationError(error)])
        } catch {
            throw ConfigurationErrors(file: file, errors: [ConfigurationError(path: "", "not valid YAML: \(error)")])
        }
        let problems = settings.validate()
        guard problems.isEmpty else { throw ConfigurationErrors(file: file, errors: problems) }
        return settings
    }
}
