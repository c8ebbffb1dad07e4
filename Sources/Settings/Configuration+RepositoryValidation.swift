import AgeEncryption
import Foundation

extension Configuration {
    /// `repositories:` and the profiles' `copy_to:` lists. The URL is checked for what this module
    /// can see (scheme, user, absolute path, no password); the transfer layer parses it again.
    func validateRepositories() -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func check(_ condition: Bool, _ path: String, _ message: String) {
            if !condition { problems.append(ConfigurationError(path: path, message)) }
        }
        for (name, repository) in repositories.sorted(by: { $0.key < $1.key }) {
            let path = "repositories.\(name)"
            check(isConfigName(name), path, "name must be lower-case letters, digits, _ or -")
            check(name != RepositorySettings.localName, path,
                  "\"local\" is the name of backups.repository; give the remote repository another name")
            switch repository.access {
            case .sftp(let sftp):
                problems += sftpProblems(repository.url, sftp, at: path)
            case .s3(let s3):
                problems += s3Problems(repository.url, s3, at: path)
            }
            if let rate = repository.maxUploadKbps {
                check(rate >= 8, "\(path).max_upload_kbps", "must be at least 8 (kilobits per second), got \(rate)")
            }
            check(repository.warnAfterHours >= 1, "\(path).warn_after_hours", "must be at least 1, got \(repository.warnAfterHours)")
            problems += Self.retentionProblems(repository.retention, at: "\(path).retention", kept: "copy")
        }
        for (name, profile) in backups.profiles.sorted(by: { $0.key < $1.key }) {
            for (index, target) in profile.copyTo.enumerated() {
                check(repositories[target] != nil, "backups.profiles.\(name).copy_to[\(index)]",
                      "\(target.debugDescription) is not under repositories: (configured: \(repositories.keys.sorted().joined(separator: ", ")))")
            }
            check(Set(profile.copyTo).count == profile.copyTo.count, "backups.profiles.\(name).copy_to", "names a repository twice")
            for (index, recipient) in profile.encryptTo.enumerated() {
                do {
                    _ = try AgeRecipient(recipient)
                } catch {
                    problems.append(ConfigurationError(path: "backups.profiles.\(name).encrypt_to[\(index)]", "\(error)"))
                }
            }
            check(profile.encryptTo.isEmpty || !profile.copyTo.isEmpty, "backups.profiles.\(name).encrypt_to",
                  "encrypts the copies that leave this host, and the profile has no copy_to: add the repositories to copy to (backups on this host stay as they are, readable by the service user only)")
        }
        if let identityFile = backups.identityFile {
            check(identityFile.hasPrefix("/"), "backups.identity_file", "must be an absolute path, got \(identityFile.debugDescription)")
        }
        return problems
    }

    private func sftpProblems(_ url: String, _ sftp: SFTPRepositoryAccess, at path: String) -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func check(_ condition: Bool, _ key: String, _ message: String) {
            if !condition { problems.append(ConfigurationError(path: "\(path).\(key)", message)) }
        }
        check(Self.isSFTPURL(url), "url",
              "must be sftp://user@host[:port]/absolute/path with no password (the key file logs in), or s3://bucket/prefix, got \(Self.withoutPassword(url).debugDescription)")
        check(sftp.keyFile.hasPrefix("/"), "key_file", "must be an absolute path, got \(sftp.keyFile.debugDescription)")
        check(Self.isHostKeyFingerprint(sftp.hostKey), "host_key",
              "must be the server's key fingerprint as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the server (SHA256:...), got \(sftp.hostKey.debugDescription)")
        if let variable = sftp.keyPassphrase.environmentVariable {
            check(isEnvironmentName(variable), "key_passphrase_env", "\(variable.debugDescription) is not an environment variable name")
        }
        return problems
    }

    private func s3Problems(_ url: String, _ s3: S3RepositoryAccess, at path: String) -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func check(_ condition: Bool, _ key: String, _ message: String) {
            if !condition { problems.append(ConfigurationError(path: "\(path).\(key)", message)) }
        }
        if let (bucket, _) = S3RepositoryAccess.bucketAndPrefix(of: url) {
            check(Self.isBucketName(bucket), "url",
                  "the bucket name \(bucket.debugDescription) is not valid: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit")
        } else {
            check(false, "url", "must be s3://bucket or s3://bucket/prefix (no user, password, port or query: the endpoint names the server), got \(Self.withoutPassword(url).debugDescription)")
        }
        let endpoint = URLComponents(string: s3.endpoint)
        check(["http", "https"].contains(endpoint?.scheme ?? "") && !(endpoint?.host ?? "").isEmpty && endpoint?.user == nil
              && (endpoint?.path ?? "").allSatisfy({ $0 == "/" }) && endpoint?.query == nil, "endpoint",
              "must be the server's address, https://host[:port] (e.g. https://s3.eu-central-1.amazonaws.com), got \(s3.endpoint.debugDescription)")
        check(!s3.region.isEmpty && s3.region.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }), "region",
              "must be a region name such as eu-central-1, got \(s3.region.debugDescription)")
        for (key, secret) in [("access_key_id", s3.accessKeyID), ("secret_access_key", s3.secretAccessKey)] {
            check(secret.isConfigured, key, "not configured; set \(key)_env (an environment variable) or \(key)_file (a file readable only by the service user)")
            if let variable = secret.environmentVariable {
                check(isEnvironmentName(variable), "\(key)_env", "\(variable.debugDescription) is not an environment variable name")
            }
            if let file = secret.file { check(file.hasPrefix("/"), "\(key)_file", "must be an absolute path, got \(file.debugDescription)") }
        }
        if let caFile = s3.caFile {
            check(caFile.hasPrefix("/") && s3.endpoint.lowercased().hasPrefix("https://"), "ca_file", "must be an absolute path to a PEM file, for an https:// endpoint, got \(caFile.debugDescription)")
        }
        check((5...5120).contains(s3.partSizeMiB), "part_size_mib", "must be between 5 and 5120 (S3's limits for a part), got \(s3.partSizeMiB)")
        return problems
    }

    /// S3's rule for bucket names.
    static func isBucketName(_ name: String) -> Bool {
        (3...63).contains(name.count) && name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "." || $0 == "-" }
            && name.first.map { $0.isLowercase || $0.isNumber } == true && name.last.map { $0.isLowercase || $0.isNumber } == true
    }

    static func isSFTPURL(_ url: String) -> Bool {
        guard let components = URLComponents(string: url), components.scheme == "sftp",
              let user = components.user, !user.isEmpty, components.password == nil,
              let host = components.host, !host.isEmpty, components.path.hasPrefix("/"),
              components.query == nil, components.fragment == nil
        else { return false }
        return !components.path.split(separator: "/").contains { $0 == ".." || $0 == "." }
    }

    /// `SHA256:` and the unpadded base64 of 32 bytes, as OpenSSH prints fingerprints.
    static func isHostKeyFingerprint(_ text: String) -> Bool {
        guard text.hasPrefix("SHA256:") else { return false }
        var encoded = String(text.dropFirst("SHA256:".count))
        while encoded.count % 4 != 0 { encoded += "=" }
        return Data(base64Encoded: encoded)?.count == 32
    }

    /// The URL as an error may show it: a password someone put there is replaced.
    static func withoutPassword(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "(hidden)"
        return components.string ?? "(unparsable URL)"
    }
}
