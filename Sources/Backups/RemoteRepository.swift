import Foundation
import RemoteFiles
import Settings

/// A configured remote repository (`repositories.NAME`) and where each backup lives in it:
/// `<profile>/<label>` under the URL's path (SFTP) or the bucket's prefix (S3); on SFTP it is
/// built under `<profile>/.partial-<label>` first and renamed.
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

    /// Opens one session to the repository: an SSH session, or an S3 client for the bucket. The
    /// secrets (a key's passphrase, the S3 access key) are read now, from their environment
    /// variable or file, so a missing one fails the job that needs it with the setting to fix
    /// (at once: retrying in the same process reads the same environment).
    package func open(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any RemoteFileSession {
        do {
            return try openSession(environment: environment)
        } catch let error as ConfigurationError {
            throw BackupRequestError("\(error)")
        }
    }

    private func openSession(environment: [String: String]) throws -> any RemoteFileSession {
        let path = "repositories.\(name)"
        switch settings.access {
        case .sftp(let sftp):
            let passphrase = sftp.keyPassphrase.isConfigured
                ? try sftp.keyPassphrase.resolve(path: path + ".key_passphrase", environment: environment)
                : nil
            let endpoint = try SFTPEndpoint(url: settings.url, privateKeyFile: sftp.keyFile, hostKeySHA256: sftp.hostKey, keyPassphrase: passphrase)
            return try SFTPSession(endpoint: endpoint)
        case .s3(let s3):
            guard let (bucket, prefix) = S3RepositoryAccess.bucketAndPrefix(of: settings.url) else {
                throw BackupRequestError("\(path).url must be s3://bucket[/prefix]; run `orchestrator config check`")
            }
            var endpoint = try S3Endpoint(
                url: s3.endpoint, region: s3.region, bucket: bucket, prefix: prefix,
                accessKeyId: try s3.accessKeyID.resolve(path: path + ".access_key_id", environment: environment),
                secretAccessKey: try s3.secretAccessKey.resolve(path: path + ".secret_access_key", environment: environment),
                partSize: Int64(s3.partSizeMiB) * 1024 * 1024
            )
            endpoint.pathStyle = s3.uriStyle == .path
            endpoint.caFile = s3.caFile
            return try S3Session(endpoint: endpoint)
        }
    }
}
