import Foundation

/// `repositories.NAME`: a place off this host that verified backups are copied to (a profile's
/// `copy_to:`), told apart by its URL's scheme:
/// - `sftp://user@host[:port]/absolute/path`: an SSH server, with a key file and the server's
///   pinned host key (`SFTPRepositoryAccess`);
/// - `s3://bucket[/prefix]`: S3 or an S3-compatible object store, with its endpoint, region and
///   access key (`S3RepositoryAccess`).
/// Secrets (a key's passphrase, S3 access keys) come from an environment variable or a file,
/// never from this file.
package struct RepositorySettings: Sendable, Decodable, Equatable {
    package enum Access: Sendable, Equatable {
        case sftp(SFTPRepositoryAccess)
        case s3(S3RepositoryAccess)
    }

    /// Backups go to `<path or prefix>/<profile>/<backup>/`.
    package var url: String
    package var access: Access
    /// Upload limit in kilobits per second, so the application's uplink keeps room; nil: none.
    package var maxUploadKbps: Int?
    /// Which copies of each profile this repository keeps, independent of the local rules.
    package var retention: RetentionPolicy
    /// `status` and the built-in alert warn when a profile's newest verified copy here is older.
    package var warnAfterHours: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, maxUploadKbps = "max_upload_kbps", retention, warnAfterHours = "warn_after_hours"
        case keyFile = "key_file", hostKey = "host_key", keyPassphraseEnv = "key_passphrase_env", keyPassphraseFile = "key_passphrase_file"
        case endpoint, region, accessKeyIDEnv = "access_key_id_env", accessKeyIDFile = "access_key_id_file"
        case secretAccessKeyEnv = "secret_access_key_env", secretAccessKeyFile = "secret_access_key_file"
        case uriStyle = "uri_style", partSizeMiB = "part_size_mib", caFile = "ca_file"

        static let sftpOnly: [Self] = [.keyFile, .hostKey, .keyPassphraseEnv, .keyPassphraseFile]
        static let s3Only: [Self] = [.endpoint, .region, .accessKeyIDEnv, .accessKeyIDFile, .secretAccessKeyEnv, .secretAccessKeyFile, .uriStyle, .partSizeMiB, .caFile]
    }

    /// The name `backups.repository` goes by beside the remote ones (`--repository local`).
    package static let localName = "local"

    package init(url: String, access: Access, maxUploadKbps: Int? = nil, retention: RetentionPolicy = RetentionPolicy(), warnAfterHours: Int = 48) {
        self.url = url
        self.access = access
        self.maxUploadKbps = maxUploadKbps
        self.retention = retention
        self.warnAfterHours = warnAfterHours
    }

    /// An SFTP repository.
    package init(
        url: String, keyFile: String, hostKey: String, keyPassphrase: SecretReference = SecretReference(),
        maxUploadKbps: Int? = nil, retention: RetentionPolicy = RetentionPolicy(), warnAfterHours: Int = 48
    ) {
        self.init(
            url: url, access: .sftp(SFTPRepositoryAccess(keyFile: keyFile, hostKey: hostKey, keyPassphrase: keyPassphrase)),
            maxUploadKbps: maxUploadKbps, retention: retention, warnAfterHours: warnAfterHours
        )
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let secrets = try decoder.container(keyedBy: AnyCodingKey.self)
        url = try c.decode(String.self, forKey: .url)
        maxUploadKbps = try c.decodeIfPresent(Int.self, forKey: .maxUploadKbps)
        retention = try c.decode(.retention, default: RetentionPolicy())
        warnAfterHours = try c.decode(.warnAfterHours, default: 48)
        let isS3 = url.lowercased().hasPrefix("s3:")
        // A key of the other kind of repository is a mistake worth naming (a key_file on an
        // S3 repository would otherwise be silently ignored).
        for key in isS3 ? CodingKeys.sftpOnly : CodingKeys.s3Only where c.contains(key) {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c,
                debugDescription: "is a setting of \(isS3 ? "sftp://" : "s3://") repositories, and this one's url is \(isS3 ? "s3://" : "not s3://")"
            )
        }
        if isS3 {
            let style = try c.decode(.uriStyle, default: S3RepositoryAccess.URIStyle.path.rawValue)
            guard let uriStyle = S3RepositoryAccess.URIStyle(rawValue: style) else {
                throw DecodingError.dataCorruptedError(forKey: .uriStyle, in: c, debugDescription: "must be path or host, got \(style.debugDescription)")
            }
            access = .s3(S3RepositoryAccess(
                endpoint: try c.decode(String.self, forKey: .endpoint),
                region: try c.decode(String.self, forKey: .region),
                accessKeyID: try SecretReference(secrets, "access_key_id"),
                secretAccessKey: try SecretReference(secrets, "secret_access_key"),
                uriStyle: uriStyle,
                partSizeMiB: try c.decode(.partSizeMiB, default: S3RepositoryAccess.defaultPartSizeMiB),
                caFile: try c.decodeIfPresent(String.self, forKey: .caFile)
            ))
        } else {
            access = .sftp(SFTPRepositoryAccess(
                keyFile: try c.decode(String.self, forKey: .keyFile),
                hostKey: try c.decode(String.self, forKey: .hostKey),
                keyPassphrase: try SecretReference(secrets, "key_passphrase")
            ))
        }
    }

    /// `max_upload_kbps` in bytes per second.
    package var maxUploadBytesPerSecond: Int64? { maxUploadKbps.map { Int64($0) * 1000 / 8 } }
}
