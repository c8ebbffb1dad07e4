import Crypto
import CurlSupport
import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// The `ssh` command line for one endpoint, and the private files it needs: a known_hosts file
/// holding only the pinned host key, and (for a key with a passphrase) an askpass script.
///
/// OpenSSH pins host keys by the key itself, not by a fingerprint. So `ssh-keyscan` first asks
/// the server for its keys; the one whose SHA-256 fingerprint is the pinned one is written to
/// the known_hosts file, and ssh then accepts that key and no other (`StrictHostKeyChecking`).
/// A server that shows the right key to the scan but cannot prove it holds the private half is
/// refused by ssh itself. No user or system configuration is read (`-F none`): no agent, no
/// forwarding, no proxy, no other identity.
final class SSHCommand: Sendable {
    let executable: String
    let arguments: [String]
    let environment: [String: String]
    private let directory: String

    /// The name the pinned key is filed under, whatever the host and port.
    private static let alias = "orchestrator-pinned-host"

    init(endpoint: SFTPEndpoint, cancellation: CancellationFlag) throws(SFTPFailure) {
        guard let ssh = ChildProcess.locate("ssh") else { throw .sshMissing("ssh") }
        guard let keyscan = ChildProcess.locate("ssh-keyscan") else { throw .sshMissing("ssh-keyscan") }
        let timeout = max(1, Int(endpoint.connectTimeout.components.seconds))
        let key = try Self.pinnedKey(endpoint: endpoint, keyscan: keyscan, timeout: timeout, cancellation: cancellation)

        var template = Array((FileManager.default.temporaryDirectory.path + "/orchestrator-ssh.XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw .complete(LocalFile.failure("creating a private directory for ssh", errno)) }
        directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var environment: [String: String] = [:]
        do throws(RemoteFileError) {
            try Self.write("\(Self.alias) \(key.type) \(key.base64)\n", to: directory + "/known_hosts", mode: 0o600)
            if endpoint.keyPassphrase != nil {
                // ssh asks this script for the passphrase; it prints the variable ssh was given.
                try Self.write("#!/bin/sh\nprintf '%s\\n' \"$ORCHESTRATOR_SSH_KEY_PASSPHRASE\"\n", to: directory + "/askpass", mode: 0o700)
                environment = [
                    "SSH_ASKPASS": directory + "/askpass", "SSH_ASKPASS_REQUIRE": "force",
                    "ORCHESTRATOR_SSH_KEY_PASSPHRASE": endpoint.keyPassphrase ?? "",
                ]
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw .complete(error)
        }
        executable = ssh
        self.environment = environment
        let aliveInterval = max(1, Int(endpoint.stallTimeout.components.seconds) / 4)
        let options = [
            "BatchMode=\(endpoint.keyPassphrase == nil ? "yes" : "no")",
            "StrictHostKeyChecking=yes", "UserKnownHostsFile=\(Self.optionPath(directory + "/known_hosts"))", "GlobalKnownHostsFile=/dev/null",
            "HostKeyAlias=\(Self.alias)", "HostKeyAlgorithms=\(Self.algorithms(for: key.type))", "UpdateHostKeys=no", "CheckHostIP=no",
            "IdentitiesOnly=yes", "IdentityAgent=none", "IdentityFile=\(Self.optionPath(endpoint.privateKeyFile))",
            "PreferredAuthentications=publickey", "PasswordAuthentication=no", "KbdInteractiveAuthentication=no", "NumberOfPasswordPrompts=1",
            "ConnectTimeout=\(timeout)", "ServerAliveInterval=\(aliveInterval)", "ServerAliveCountMax=4",
            "ControlMaster=no", "ControlPath=none", "ProxyCommand=none", "ForwardAgent=no", "ForwardX11=no", "ClearAllForwardings=yes",
            "PermitLocalCommand=no", "LogLevel=ERROR",
        ]
        arguments = ["-F", "none", "-T", "-e", "none"] + options.flatMap { ["-o", $0] }
            + ["-p", String(endpoint.port), "-l", endpoint.user, "-s", "--", endpoint.host, "sftp"]
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A path as the value of a `-o` option: ssh splits values on spaces unless quoted, and
    /// expands '%' tokens in these two, so '%' is doubled and the path is quoted.
    static func optionPath(_ path: String) -> String {
        "\"" + path.replacingOccurrences(of: "%", with: "%%").replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The host key algorithms that use a key of `type` (RSA keys sign with SHA-2 only).
    static func algorithms(for type: String) -> String {
        type == "ssh-rsa" ? "rsa-sha2-512,rsa-sha2-256" : type
    }

    /// "SHA256:" and the unpadded base64 of the SHA-256 of a key blob, as ssh-keygen prints it.
    static func fingerprint(ofBase64 key: String) -> String? {
        guard let blob = Data(base64Encoded: key) else { return nil }
        var text = Data(SHA256.hash(data: blob)).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return "SHA256:" + text
    }

    /// The server's key whose fingerprint is the pinned one.
    /// `timeout`: the connect timeout in whole seconds, as ssh-keyscan's `-T` takes it.
    private static func pinnedKey(endpoint: SFTPEndpoint, keyscan: String, timeout: Int, cancellation: CancellationFlag) throws(SFTPFailure) -> (type: String, base64: String) {
        let scan = try SSHProcess(
            ssh: keyscan, arguments: ["-T", String(timeout), "-p", String(endpoint.port), "-t", "ed25519,ecdsa,rsa", "--", endpoint.host],
            environment: [:], stallTimeout: endpoint.connectTimeout + .seconds(5)
        )
        defer { scan.end() }
        let result = try scan.readToEnd(limit: 64 * 1024, cancellation: cancellation)
        var offered: [(type: String, base64: String, fingerprint: String)] = []
        for line in String(decoding: result.output, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3, let fingerprint = fingerprint(ofBase64: String(fields[2])) else { continue }
            offered.append((String(fields[1]), String(fields[2]), fingerprint))
        }
        if let match = offered.first(where: { $0.fingerprint == endpoint.hostKeySHA256 }) { return (match.type, match.base64) }
        guard !offered.isEmpty else {
            let said = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "; ")
            throw .unreachable(said.isEmpty ? "no SSH server answered" : said)
        }
        throw .hostKeyMismatch(offered: offered.map { "\($0.fingerprint) (\($0.type))" })
    }

    private static func write(_ text: String, to path: String, mode: mode_t) throws(RemoteFileError) {
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw LocalFile.failure("creating \(path)", errno) }
        defer { _ = Glibc.close(descriptor) }
        let bytes = Array(text.utf8)
        guard Glibc.write(descriptor, bytes, bytes.count) == bytes.count else { throw LocalFile.failure("writing \(path)", errno) }
    }
}
