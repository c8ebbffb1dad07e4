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
            check(Self.isSFTPURL(repository.url), "\(path).url",
                  "must be sftp://user@host[:port]/absolute/path with no password (the key file logs in), got \(Self.withoutPassword(repository.url).debugDescription)")
            check(repository.keyFile.hasPrefix("/"), "\(path).key_file", "must be an absolute path, got \(repository.keyFile.debugDescription)")
            check(Self.isHostKeyFingerprint(repository.hostKey), "\(path).host_key",
                  "must be the server's key fingerprint as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the server (SHA256:...), got \(repository.hostKey.debugDescription)")
            if let variable = repository.keyPassphrase.environmentVariable {
                check(isEnvironmentName(variable), "\(path).key_passphrase_env", "\(variable.debugDescription) is not an environment variable name")
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
