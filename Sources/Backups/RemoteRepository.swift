import Foundation
import RemoteFiles
import Settings

/// A configured remote repository (`repositories.NAME`) and where each backup lives in it:
/// `<profile>/<label>` under the URL's path, built under `<profile>/.partial-<label>` first.
package struct RemoteRepository: Sendable {
    package let name: String
    package let settings: RepositorySettings

    package init(name: String, settings: RepositorySettings) {
        self.name = name
        self.settings = settings
    }

    /// The named repository of `configuration`, or an error listing the configured ones.
    package init(named name: String, in configuration: Configuration) throws(BackupRequestError) {
        guard let settings = configuration.repositories[name] else {
            let known = configuration.repositories.keys.sorted()
            throw BackupRequestError(
                "unknown repository \(name.debugDescription); configured: \(known.isEmpty ? "none (add them under repositories: in the configuration)" : known.joined(separator: ", "))"
            )
        }
        self.init(name: name, settings: settings)
    }

    /// Where a backup's complete copy lives.
    package static func location(profile: String, label: String) -> String { "\(profile)/\(label)" }
    /// Where a copy is assembled until its manifest is committed: never listed as a backup.
    package static func partialLocation(profile: String, label: String) -> String { "\(profile)/.partial-\(label)" }

    /// Opens one SSH session to the repository (the key's passphrase read now, from its
    /// environment variable or file).
    package func open(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SFTPSession {
        let passphrase = settings.keyPassphrase.isConfigured
            ? try settings.keyPassphrase.resolve(path: "repositories.\(name).key_passphrase", environment: environment)
            : nil
        let endpoint = try SFTPEndpoint(url: settings.url, privateKeyFile: settings.keyFile, hostKeySHA256: settings.hostKey, keyPassphrase: passphrase)
        return try SFTPSession(endpoint: endpoint)
    }
}
