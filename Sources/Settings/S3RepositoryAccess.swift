import Foundation

/// How an `s3://bucket/prefix` repository is reached: the server, its region, the access key
/// (both halves from the environment or a file, never from the configuration) and how object
/// addresses are written.
package struct S3RepositoryAccess: Sendable, Equatable {
    /// Path style (`https://server/bucket/key`) or virtual-host style (`https://bucket.server/key`).
    package enum URIStyle: String, Sendable, Equatable, CaseIterable {
        case path, host
    }

    /// `https://s3.eu-central-1.amazonaws.com`, or an S3-compatible server's address.
    package var endpoint: String
    /// The bucket's region (`eu-central-1`); S3-compatible servers often accept any, e.g. `us-east-1`.
    package var region: String
    /// `access_key_id_env` / `access_key_id_file`.
    package var accessKeyID: SecretReference
    /// `secret_access_key_env` / `secret_access_key_file`.
    package var secretAccessKey: SecretReference
    /// `path` (the default, what S3-compatible servers expect) or `host` (AWS's preferred style).
    package var uriStyle: URIStyle
    /// Files larger than this go as a multipart upload with parts of this size (S3: 5 MiB to 5 GiB).
    package var partSizeMiB: Int
    /// `ca_file`: the certificate authorities (PEM) trusted for an https endpoint instead of the
    /// system's, for a private server with its own CA.
    package var caFile: String?

    package static let defaultPartSizeMiB = 64

    package init(
        endpoint: String, region: String, accessKeyID: SecretReference, secretAccessKey: SecretReference,
        uriStyle: URIStyle = .path, partSizeMiB: Int = Self.defaultPartSizeMiB, caFile: String? = nil
    ) {
        self.endpoint = endpoint
        self.region = region
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.uriStyle = uriStyle
        self.partSizeMiB = partSizeMiB
        self.caFile = caFile
    }

    /// The bucket and the prefix inside it of `s3://bucket[/prefix]`; nil for anything else
    /// (another scheme, a user, a password, a port, a query or a fragment).
    package static func bucketAndPrefix(of url: String) -> (bucket: String, prefix: String)? {
        guard let components = URLComponents(string: url), components.scheme == "s3",
              let bucket = components.host, !bucket.isEmpty, components.user == nil, components.password == nil,
              components.port == nil, components.query == nil, components.fragment == nil
        else { return nil }
        let prefix = components.path.split(separator: "/").joined(separator: "/")
        guard !prefix.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else { return nil }
        return (bucket, prefix)
    }
}
