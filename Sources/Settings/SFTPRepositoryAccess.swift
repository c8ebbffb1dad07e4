/// How an `sftp://` repository is reached: a private key file and the server's pinned host key.
package struct SFTPRepositoryAccess: Sendable, Equatable {
    /// The private key that logs in (OpenSSH or PEM format, readable only by the service user).
    package var keyFile: String
    /// The server's host key as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it
    /// (`SHA256:...`): always pinned, a different key is refused.
    package var hostKey: String
    /// `key_passphrase_env` / `key_passphrase_file`, when the key has a passphrase.
    package var keyPassphrase: SecretReference

    package init(keyFile: String, hostKey: String, keyPassphrase: SecretReference = SecretReference()) {
        self.keyFile = keyFile
        self.hostKey = hostKey
        self.keyPassphrase = keyPassphrase
    }
}
