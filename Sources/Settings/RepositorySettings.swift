import Foundation

/// `repositories.NAME`: a place off this host that verified backups are copied to (a profile's
/// `copy_to:`). Today an SFTP server: `sftp://user@host[:port]/absolute/path`, a key file and the
/// server's pinned host key. Secrets (the key's passphrase) come from an environment variable or
/// a file, never from this file; the key itself stays in its own file, which only the service
/// user reads.
package struct RepositorySettings: Sendable, Decodable, Equatable {
    /// `sftp://user@host[:port]/absolute/path`; backups go to `<path>/<profile>/<backup>/`.
    package var url: String
    /// The private key that logs in (OpenSSH or PEM format, readable only by the service user).
    package var keyFile: String
    /// The server's host key as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it
    /// (`SHA256:...`): always pinned, a different key is refused.
    package var hostKey: String
    /// `key_passphrase_env` / `key_passphrase_file`, when the key has a passphrase.
    package var keyPassphrase: SecretReference
    /// Upload limit in kilobits per second, so the application's uplink keeps room; nil: none.
    package var maxUploadKbps: Int?
    /// Which copies of each profile this repository keeps, independent of the local rules.
    package var retention: RetentionPolicy
    /// `status` and the built-in alert warn when a profile's newest verified copy here is older.
    package var warnAfterHours: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, keyFile = "key_file", hostKey = "host_key", keyPassphraseEnv = "key_passphrase_env"
        case keyPassphraseFile = "key_passphrase_file", maxUploadKbps = "max_upload_kbps", retention
        case warnAfterHours = "warn_after_hours"
    }

    /// The name `backups.repository` goes by beside the remote ones (`--repository local`).
    package static let localName = "local"

    package init(
        url: String, keyFile: String, hostKey: String, keyPassphrase: SecretReference = SecretReference(),
        maxUploadKbps: Int? = nil, retention: RetentionPolicy = RetentionPolicy(), warnAfterHours: Int = 48
    ) {
        self.url = url
        self.keyFile = keyFile
        self.hostKey = hostKey
        self.keyPassphrase = keyPassphrase
        self.maxUploadKbps = maxUploadKbps
        self.retention = retention
        self.warnAfterHours = warnAfterHours
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        keyFile = try c.decode(String.self, forKey: .keyFile)
        hostKey = try c.decode(String.self, forKey: .hostKey)
        keyPassphrase = SecretReference(
            environmentVariable: try c.decodeIfPresent(String.self, forKey: .keyPassphraseEnv),
            file: try c.decodeIfPresent(String.self, forKey: .keyPassphraseFile)
        )
        maxUploadKbps = try c.decodeIfPresent(Int.self, forKey: .maxUploadKbps)
        retention = try c.decode(.retention, default: RetentionPolicy())
        warnAfterHours = try c.decode(.warnAfterHours, default: 48)
    }

    /// `max_upload_kbps` in bytes per second.
    package var maxUploadBytesPerSecond: Int64? { maxUploadKbps.map { Int64($0) * 1000 / 8 } }
}
