import Foundation
import Yams

/// What `wal-push` and `wal-get` need, in a file of its own: they run as the `postgres` user
/// from PostgreSQL's archive and restore commands, which must not read the main configuration
/// (it holds database URLs and secret references). Read once per command, nothing else parsed:
///
///     wal_archive:
///       repository: /var/lib/orchestrator/repository
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
    /// Whether `wal-push` answers from the spool, a background pusher doing the pushing.
    package var async: Bool
    /// Absolute path of the spool (one per cluster).
    package var spool: String
    package var pushAhead: Int

    package init(repository: String, async: Bool = false, spool: String = Self.defaultSpool, pushAhead: Int = Self.defaultPushAhead) {
        self.repository = repository
        self.async = async
        self.spool = spool
        self.pushAhead = pushAhead
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case repository, async, spool
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
        let container = try decoder.container(keyedBy: CodingKeys.self)
        repository = try container.decode(String.self, forKey: .repository)
        async = try container.decodeIfPresent(Bool.self, forKey: .async) ?? false
        spool = try container.decodeIfPresent(String.self, forKey: .spool) ?? Self.defaultSpool
        pushAhead = try container.decodeIfPresent(Int.self, forKey: .pushAhead) ?? Self.defaultPushAhead
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
        guard settings.repository.hasPrefix("/") else {
            throw ConfigurationErrors(file: file, errors: [ConfigurationError(path: "wal_archive.repository", "must be an absolute path, not \"\(settings.repository)\"")])
        }
        guard settings.spool.hasPrefix("/") else {
            throw ConfigurationErrors(file: file, errors: [ConfigurationError(path: "wal_archive.spool", "must be an absolute path, not \"\(settings.spool)\"")])
        }
        guard pushAheadRange.contains(settings.pushAhead) else {
            throw ConfigurationErrors(file: file, errors: [ConfigurationError(path: "wal_archive.push_ahead", "must be from \(pushAheadRange.lowerBound) to \(pushAheadRange.upperBound), not \(settings.pushAhead)")])
        }
        return settings
    }
}
