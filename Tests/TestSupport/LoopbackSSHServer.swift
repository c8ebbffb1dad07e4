import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real OpenSSH server of a test's own on 127.0.0.1, everything under a temporary directory:
/// its ed25519 host key, the client keys, authorized_keys, the configuration and the pid file.
/// Logins are by key only, as the current user; SFTP is served by `internal-sftp`.
///
/// Needs /usr/sbin/sshd (Debian's openssh-server, which scripts/test installs); a missing
/// server fails the test with that advice rather than skipping it silently. Call `stop()`.
public final class LoopbackSSHServer: @unchecked Sendable {
    // @unchecked: every stored property is immutable; `Process` is only terminated and waited for.
    public let port: Int
    public let user: String
    /// The temporary directory with the keys and the configuration.
    public let directory: String
    /// An empty directory the tests use as the remote base directory.
    public let root: String
    /// A key pair the server accepts, without a passphrase.
    public let privateKeyFile: String
    public let publicKeyFile: String
    /// A key pair the server accepts, protected by `passphrase`.
    public let protectedKeyFile: String
    public let protectedPublicKeyFile: String
    public var passphrase: String { Self.keyPassphrase }
    static let keyPassphrase = "correct horse battery staple 42"
    /// A key pair the server does not accept.
    public let strangerKeyFile: String
    /// The host key's fingerprint as `ssh-keygen -lf hostkey.pub -E sha256` prints it: "SHA256:...".
    public let hostKeySHA256: String
    private let process: Process
    private let logFile: String

    public static let sshd = "/usr/sbin/sshd"

    public init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.sshd) else {
            throw TestEnvironmentError("\(Self.sshd) not found: install openssh-server (scripts/test does)")
        }
        var template = Array("/tmp/sftp-test.XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw TestEnvironmentError("mkdtemp failed: errno \(errno)") }
        let directory = String(cString: template)
        let clientKey = directory + "/client_ed25519"
        let protectedKey = directory + "/client_protected_ed25519"
        let strangerKey = directory + "/stranger_ed25519"
        let hostKey = directory + "/host_ed25519"
        let logFile = directory + "/sshd.log"
        let process = Process()
        let port: Int
        do {
            try FileManager.default.createDirectory(atPath: directory + "/files", withIntermediateDirectories: true)
            try Self.keygen(["-q", "-t", "ed25519", "-N", "", "-C", "loopback host", "-f", hostKey])
            try Self.keygen(["-q", "-t", "ed25519", "-N", "", "-C", "client", "-f", clientKey])
            try Self.keygen(["-q", "-t", "ed25519", "-N", Self.keyPassphrase, "-C", "protected client", "-f", protectedKey])
            try Self.keygen(["-q", "-t", "ed25519", "-N", "", "-C", "stranger", "-f", strangerKey])
            let authorized = try String(contentsOfFile: clientKey + ".pub", encoding: .utf8) + String(contentsOfFile: protectedKey + ".pub", encoding: .utf8)
            try authorized.write(toFile: directory + "/authorized_keys", atomically: true, encoding: .utf8)
            let fingerprint = try Self.keygen(["-l", "-f", hostKey + ".pub", "-E", "sha256"]).split(separator: " ")
            guard fingerprint.count >= 2, fingerprint[1].hasPrefix("SHA256:") else {
                throw TestEnvironmentError("unexpected ssh-keygen -l output: \(fingerprint.joined(separator: " "))")
            }
            hostKeySHA256 = String(fingerprint[1])

            // As root, sshd wants its privilege separation directory.
            if getuid() == 0, !FileManager.default.fileExists(atPath: "/run/sshd") {
                try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            }
            port = try LoopbackPort.free()
            let configuration = directory + "/sshd_config"
            try """
                ListenAddress 127.0.0.1:\(port)
                HostKey \(hostKey)
                PidFile \(directory)/sshd.pid
                AuthorizedKeysFile \(directory)/authorized_keys
                AuthenticationMethods publickey
                PubkeyAuthentication yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                UsePAM no
                StrictModes no
                PermitRootLogin prohibit-password
                Subsystem sftp internal-sftp
                AllowTcpForwarding no
                X11Forwarding no
                PrintMotd no
                MaxStartups 100
                LogLevel VERBOSE

                """.write(toFile: configuration, atomically: true, encoding: .utf8)

            FileManager.default.createFile(atPath: logFile, contents: nil)
            process.executableURL = URL(fileURLWithPath: Self.sshd)
            process.arguments = ["-D", "-e", "-f", configuration]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
            try process.run()
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        guard let entry = getpwuid(getuid()) else { throw TestEnvironmentError("no passwd entry for uid \(getuid())") }
        user = String(cString: entry.pointee.pw_name)
        self.port = port
        self.directory = directory
        root = directory + "/files"
        privateKeyFile = clientKey
        publicKeyFile = clientKey + ".pub"
        protectedKeyFile = protectedKey
        protectedPublicKeyFile = protectedKey + ".pub"
        strangerKeyFile = strangerKey
        self.process = process
        self.logFile = logFile

        let deadline = ContinuousClock.now + .seconds(15)
        while !LoopbackPort.accepts(port) {
            guard process.isRunning else {
                let log = self.log
                stop()
                throw TestEnvironmentError("sshd exited with status \(process.terminationStatus): \(log)")
            }
            guard ContinuousClock.now < deadline else {
                let log = self.log
                stop()
                throw TestEnvironmentError("sshd did not accept connections on port \(port) within 15 s: \(log)")
            }
            usleep(50_000)
        }
    }

    deinit { stop() }

    /// "sftp://user@127.0.0.1:PORT/path"; `path` may be absolute (`root`) or relative to "/".
    public func url(path: String) -> String {
        "sftp://\(user)@127.0.0.1:\(port)" + (path.hasPrefix("/") ? path : "/" + path)
    }

    /// What sshd logged so far (-e: to its standard error), for failure messages.
    public var log: String {
        (try? String(contentsOfFile: logFile, encoding: .utf8)).map { String($0.suffix(4000)) } ?? ""
    }

    /// Stops the server and removes its directory. Idempotent.
    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs ssh-keygen and returns its standard output.
    @discardableResult
    private static func keygen(_ arguments: [String]) throws -> String {
        let keygen = Process()
        keygen.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        keygen.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        keygen.standardInput = FileHandle.nullDevice
        keygen.standardOutput = output
        keygen.standardError = errors
        try keygen.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        keygen.waitUntilExit()
        guard keygen.terminationStatus == 0 else {
            throw TestEnvironmentError("ssh-keygen \(arguments.filter { !$0.contains(" ") }.joined(separator: " ")) exited \(keygen.terminationStatus): \(problems)")
        }
        return text
    }
}
