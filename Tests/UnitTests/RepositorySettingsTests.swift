@testable import Settings
import Testing

@Suite("Repository settings")
struct RepositorySettingsTests {
    static let hostKey = "SHA256:0vN1fJ4Qf4k0t7oZc2e6V4oUoQe9m0m5pQz2bq1n9aE"

    static func yaml(url: String = "sftp://backup@nas.example:2222/srv/backups", name: String = "offsite", extra: String = "", copyTo: String = "[offsite]") -> String {
        """
        databases: {app: {dbname: app}}
        repositories:
          \(name): {url: "\(url)", key_file: /etc/orchestrator/key, host_key: "\(hostKey)"\(extra)}
        backups:
          profiles:
            daily: {databases: [app], copy_to: \(copyTo)}
        """
    }

    static func problems(_ yaml: String) throws -> [String] {
        try Configuration.parse(yaml: yaml).validate().map { "\($0.path): \($0.message)" }
    }

    @Test func aRepositoryParsesWithItsDefaults() throws {
        let configuration = try Configuration.parse(yaml: Self.yaml(extra: ", max_upload_kbps: 16000, key_passphrase_env: OFFSITE_PASSPHRASE"))
        #expect(configuration.validate().isEmpty, "\(configuration.validate())")
        let repository = try #require(configuration.repositories["offsite"])
        #expect(repository.url == "sftp://backup@nas.example:2222/srv/backups")
        #expect(repository.maxUploadBytesPerSecond == 2_000_000)
        #expect(repository.access == .sftp(SFTPRepositoryAccess(
            keyFile: "/etc/orchestrator/key", hostKey: Self.hostKey, keyPassphrase: SecretReference(environmentVariable: "OFFSITE_PASSPHRASE")
        )))
        #expect(repository.retention == RetentionPolicy())
        #expect(repository.warnAfterHours == 48)
        #expect(configuration.backups.profiles["daily"]?.copyTo == ["offsite"])
        #expect(try Configuration.parse(yaml: "backups: {profiles: {d: {databases: [a]}}}").backups.profiles["d"]?.copyTo == [])
    }

    @Test func badRepositoriesAreRefusedWithTheFix() throws {
        let password = try Self.problems(Self.yaml(url: "sftp://backup:hunter2@nas.example/srv/backups"))
        #expect(password.contains { $0.hasPrefix("repositories.offsite.url: must be sftp://user@host[:port]/absolute/path with no password") }, "\(password)")
        #expect(!password.joined().contains("hunter2"), "the password is never echoed: \(password)")
        for url in ["https://nas.example/srv", "sftp://nas.example/srv", "sftp://backup@nas.example", "sftp://backup@nas.example/srv/../etc", "sftp://backup@nas.example/srv?x=1"] {
            #expect(try Self.problems(Self.yaml(url: url)).contains { $0.hasPrefix("repositories.offsite.url:") }, "\(url)")
        }
        let fingerprint = try Self.problems(Self.yaml().replacingOccurrences(of: Self.hostKey, with: "SHA256:tooshort"))
        #expect(fingerprint.contains { $0.hasPrefix("repositories.offsite.host_key: must be the server's key fingerprint as `ssh-keygen -lf") }, "\(fingerprint)")
        let local = try Self.problems(Self.yaml(name: "local", copyTo: "[local]"))
        #expect(local.contains { $0.hasPrefix("repositories.local: \"local\" is the name of backups.repository") }, "\(local)")
        let unknown = try Self.problems(Self.yaml(copyTo: "[elsewhere]"))
        #expect(unknown.contains("backups.profiles.daily.copy_to[0]: \"elsewhere\" is not under repositories: (configured: offsite)"), "\(unknown)")
        let slow = try Self.problems(Self.yaml(extra: ", max_upload_kbps: 4"))
        #expect(slow.contains { $0.hasPrefix("repositories.offsite.max_upload_kbps: must be at least 8") }, "\(slow)")
        #expect(throws: (any Error).self) { try Configuration.parse(yaml: Self.yaml(extra: ", key_passphrase: secret")) }
        #expect(throws: (any Error).self) { try Configuration.parse(yaml: Self.yaml(extra: ", password: secret")) }
    }

    @Test func encryptionTakesAgeRecipientsForCopiesAndAnIdentityFile() throws {
        let recipient = "age1aqaz5frqpece5kfpdprrc7lgjtrnjxkwz826d80ejewgqtnylytqgtffhg"
        let yaml = Self.yaml().replacingOccurrences(of: "copy_to: [offsite]", with: "copy_to: [offsite], encrypt_to: [\(recipient)]")
            + "\n  identity_file: /etc/orchestrator/identity.txt"
        let configuration = try Configuration.parse(yaml: yaml)
        #expect(configuration.validate().isEmpty, "\(configuration.validate())")
        #expect(configuration.backups.profiles["daily"]?.encryptTo == [recipient])
        #expect(configuration.backups.identityFile == "/etc/orchestrator/identity.txt")

        let typo = try Self.problems(yaml.replacingOccurrences(of: recipient, with: String(recipient.dropLast()) + "q"))
        #expect(typo.contains { $0.hasPrefix("backups.profiles.daily.encrypt_to[0]: not an age X25519 recipient") }, "\(typo)")
        // A secret key where a recipient belongs is refused without being echoed.
        let secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
        let leaked = try Self.problems(yaml.replacingOccurrences(of: recipient, with: secret))
        #expect(leaked.contains { $0.hasPrefix("backups.profiles.daily.encrypt_to[0]:") } && !leaked.joined().contains(secret), "\(leaked)")
        let local = try Self.problems(yaml.replacingOccurrences(of: "copy_to: [offsite], ", with: ""))
        #expect(local.contains { $0.hasPrefix("backups.profiles.daily.encrypt_to: encrypts the copies that leave this host, and the profile has no copy_to") }, "\(local)")
        let relative = try Self.problems(yaml.replacingOccurrences(of: "/etc/orchestrator/identity.txt", with: "identity.txt"))
        #expect(relative.contains("backups.identity_file: must be an absolute path, got \"identity.txt\""), "\(relative)")
    }

    static func s3YAML(url: String = "s3://orchestrator-backups/nuc/db1", extra: String = "") -> String {
        """
        databases: {app: {dbname: app}}
        repositories:
          cloud: {url: "\(url)", endpoint: "https://s3.eu-central-1.amazonaws.com", region: eu-central-1, access_key_id_env: S3_KEY_ID, secret_access_key_file: /etc/orchestrator/s3-secret\(extra)}
        backups:
          profiles:
            daily: {databases: [app], copy_to: [cloud]}
        """
    }

    @Test func anS3RepositoryIsToldByItsURLAndTakesItsKeysFromTheEnvironmentOrAFile() throws {
        let configuration = try Configuration.parse(yaml: Self.s3YAML(extra: ", uri_style: host, part_size_mib: 16, max_upload_kbps: 8000, ca_file: /etc/orchestrator/s3-ca.pem"))
        #expect(configuration.validate().isEmpty, "\(configuration.validate())")
        let repository = try #require(configuration.repositories["cloud"])
        #expect(repository.access == .s3(S3RepositoryAccess(
            endpoint: "https://s3.eu-central-1.amazonaws.com", region: "eu-central-1",
            accessKeyID: SecretReference(environmentVariable: "S3_KEY_ID"), secretAccessKey: SecretReference(file: "/etc/orchestrator/s3-secret"),
            uriStyle: .host, partSizeMiB: 16, caFile: "/etc/orchestrator/s3-ca.pem"
        )))
        #expect(repository.maxUploadBytesPerSecond == 1_000_000)
        let defaults = try #require(try Configuration.parse(yaml: Self.s3YAML()).repositories["cloud"])
        guard case .s3(let access) = defaults.access else { Issue.record("not s3: \(defaults.access)"); return }
        #expect(access.uriStyle == .path && access.partSizeMiB == 64)
        #expect(S3RepositoryAccess.bucketAndPrefix(of: "s3://orchestrator-backups/nuc/db1/")! == ("orchestrator-backups", "nuc/db1"))
        #expect(S3RepositoryAccess.bucketAndPrefix(of: "s3://orchestrator-backups")! == ("orchestrator-backups", ""))
    }

    @Test func badS3RepositoriesAreRefusedWithTheFix() throws {
        for url in ["s3://Bad_Bucket/x", "s3://ab", "s3://key:secret@bucket/x", "s3://bucket:9000/x", "s3://bucket/x?versionId=1", "s3://bucket/../x"] {
            let problems = try Self.problems(Self.s3YAML(url: url))
            #expect(problems.contains { $0.hasPrefix("repositories.cloud.url:") }, "\(url): \(problems)")
            #expect(!problems.joined().contains("secret@"), "a password in the URL is never echoed: \(problems)")
        }
        let endpoint = try Self.problems(Self.s3YAML().replacingOccurrences(of: "https://s3.eu-central-1.amazonaws.com", with: "s3.eu-central-1.amazonaws.com"))
        #expect(endpoint.contains { $0.hasPrefix("repositories.cloud.endpoint: must be the server's address, https://host[:port]") }, "\(endpoint)")
        let noSecret = try Self.problems(Self.s3YAML().replacingOccurrences(of: ", secret_access_key_file: /etc/orchestrator/s3-secret", with: ""))
        #expect(noSecret.contains("repositories.cloud.secret_access_key: not configured; set secret_access_key_env (an environment variable) or secret_access_key_file (a file readable only by the service user)"), "\(noSecret)")
        let plainCA = try Self.problems(Self.s3YAML(extra: ", ca_file: /etc/ca.pem").replacingOccurrences(of: "https://s3.eu", with: "http://s3.eu"))
        #expect(plainCA.contains { $0.hasPrefix("repositories.cloud.ca_file: must be an absolute path to a PEM file, for an https:// endpoint") }, "\(plainCA)")
        let part = try Self.problems(Self.s3YAML(extra: ", part_size_mib: 4"))
        #expect(part.contains { $0.hasPrefix("repositories.cloud.part_size_mib: must be between 5 and 5120") }, "\(part)")
        // Settings of the other kind, or a secret written into the file, are refused by name.
        #expect(throws: (any Error).self) { try Configuration.parse(yaml: Self.s3YAML(extra: ", key_file: /etc/orchestrator/key")) }
        #expect(throws: (any Error).self) { try Configuration.parse(yaml: Self.s3YAML(extra: ", secret_access_key: hunter2")) }
        #expect(throws: (any Error).self) { try Configuration.parse(yaml: Self.s3YAML(extra: ", uri_style: virtual")) }
        #expect(throws: (any Error).self) { try Configuration.parse(yaml: Self.yaml(extra: ", region: eu-central-1")) }
    }

    @Test func fingerprintsAreOpenSSHs() {
        #expect(Configuration.isHostKeyFingerprint(Self.hostKey))
        #expect(Configuration.isHostKeyFingerprint(Self.hostKey + "="))
        #expect(!Configuration.isHostKeyFingerprint(String(Self.hostKey.dropFirst(7))))
        #expect(!Configuration.isHostKeyFingerprint("MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48"))
        #expect(!Configuration.isHostKeyFingerprint("SHA256:" + String(repeating: "A", count: 40)))
    }
}
