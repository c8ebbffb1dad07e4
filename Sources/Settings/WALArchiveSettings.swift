import Foundation
import Yams

/// What `wal-push` and `wal-get` need, in a file of its own: they run as the `postgres` user
/// from PostgreSQL's archive and restore commands, which must not read the main configuration
/// (it holds database URLs and secret references). Read once per command, nothing else parsed:
///
///     wal_archive:
///       repository: /var/lib/orchestrator/repository
package struct WALArchiveSettings: Sendable, Equatable, Decodable {
    package static let defaultPath = "/etc/orchestrator/wal.yaml"

    /// Absolute path of the repository; WAL goes under its `wal/` directory.
    package var repository: String

    package init(repository: String) {
        self.repository = repository
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case repository
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
        repository = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .repository)
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
        return settings
    }
}
