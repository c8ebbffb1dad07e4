import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real S3 emulator of a test's own on 127.0.0.1: moto's server mode, which keeps buckets
/// and objects in memory and forgets them when it stops.
///
/// Needs moto with its server extra (`python3 -m pip install 'moto[server]'`, which scripts/test
/// does); a missing moto fails the test with that advice rather than skipping it silently.
/// moto accepts any credentials unless `requireSignatures()` was called. Call `stop()`.
public final class LoopbackS3Server: @unchecked Sendable {
    // @unchecked: every stored property is immutable; `Process` is only terminated and waited for.
    public let port: Int
    /// With `tls`: the self-signed certificate the server presents (PEM), its own CA.
    public let caFile: String?
    private let process: Process
    private let logFile: String

    /// `tls`: serve https with a certificate made for 127.0.0.1 (openssl), trusted by nobody
    /// but a client given `caFile`.
    public init(tls: Bool = false) throws {
        let port = try LoopbackPort.free()
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("moto-\(UUID().uuidString).log").path
        FileManager.default.createFile(atPath: logFile, contents: nil)
        var tlsArguments: [String] = []
        if tls {
            let certificate = logFile + ".cert.pem", key = logFile + ".key.pem"
            try Self.run("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ], "making a TLS certificate")
            tlsArguments = ["-s", "-c", certificate, "-k", key]
            caFile = certificate
        } else {
            caFile = nil
        }
        let process = Process()
        if let server = Self.onPath("moto_server") {
            process.executableURL = URL(fileURLWithPath: server)
            process.arguments = ["-H", "127.0.0.1", "-p", String(port)] + tlsArguments
        } else if let python = Self.onPath("python3") {
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)] + tlsArguments
        } else {
            throw TestEnvironmentError("neither moto_server nor python3 found: install moto (python3 -m pip install 'moto[server]'; scripts/test does)")
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        process.standardError = process.standardOutput
        try process.run()
        self.port = port
        self.process = process
        self.logFile = logFile

        let deadline = ContinuousClock.now + .seconds(30)
        while !LoopbackPort.accepts(port) {
            guard process.isRunning else {
                let log = self.log
                stop()
                throw TestEnvironmentError("moto's server exited with status \(process.terminationStatus) (is moto[server] installed?): \(log)")
            }
            guard ContinuousClock.now < deadline else {
                let log = self.log
                stop()
                throw TestEnvironmentError("moto's server did not accept connections on port \(port) within 30 s: \(log)")
            }
            usleep(50_000)
        }
    }

    deinit { stop() }

    /// One server for every test of the run that wants one (it takes seconds to start), started
    /// on first use and killed when the test process exits; each test makes buckets of its own.
    public static func shared() throws -> LoopbackS3Server { try sharedServer.get() }

    private static let sharedServer: Result<LoopbackS3Server, any Error> = {
        let result = Result { try LoopbackS3Server() }
        if case .success = result { atexit { if case .success(let server) = LoopbackS3Server.sharedServer { server.terminateWithoutWaiting() } } }
        return result
    }()

    /// "http://127.0.0.1:PORT", or https with `tls`.
    public var url: String { "\(caFile == nil ? "http" : "https")://127.0.0.1:\(port)" }

    /// Creates a bucket with an unsigned request: moto needs no credentials, so none exist to leak.
    public func createBucket(_ name: String) throws {
        try curl(["-X", "PUT", "\(url)/\(name)"], "creating bucket \(name)")
    }

    /// Begins a multipart upload of `key` and leaves it open, as a process killed in the middle
    /// of one does.
    public func beginMultipartUpload(bucket: String, key: String) throws {
        try curl(["-X", "POST", "\(url)/\(bucket)/\(key)?uploads"], "beginning an upload of \(key)")
    }

    /// Makes this server check every request's signature from now on, as S3 does, and returns
    /// the one access key it then accepts (an IAM user allowed `s3:*`). moto checks nothing
    /// until told (`/moto-api/reset-auth`); it recomputes each SigV4 signature with botocore,
    /// AWS's own SDK, so a request it accepts is signed the way AWS expects. For a server of a
    /// test's own: the shared one stays open.
    public func requireSignatures() throws -> (accessKeyId: String, secretAccessKey: String) {
        // IAM calls are signed too, so that moto routes them to IAM; any key will do until the end.
        let iam = ["--aws-sigv4", "aws:amz:us-east-1:iam", "--user", "AKIAANYKEYBEFOREAUTH:any"]
        _ = try curl(iam + ["-d", "Action=CreateUser&UserName=orchestrator&Version=2010-05-08", url + "/"], "creating an IAM user")
        let created = String(decoding: try curl(iam + ["-d", "Action=CreateAccessKey&UserName=orchestrator&Version=2010-05-08", url + "/"], "creating an access key"), as: UTF8.self)
        func element(_ name: String) -> String? {
            guard let start = created.range(of: "<\(name)>"), let end = created.range(of: "</\(name)>", range: start.upperBound..<created.endIndex) else { return nil }
            return String(created[start.upperBound..<end.lowerBound])
        }
        guard let keyId = element("AccessKeyId"), let secret = element("SecretAccessKey") else {
            throw TestEnvironmentError("moto created no access key: \(created)")
        }
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        _ = try curl(iam + ["--data-urlencode", "PolicyDocument=" + policy, "-d", "Action=PutUserPolicy&UserName=orchestrator&PolicyName=s3&Version=2010-05-08", url + "/"], "allowing the user S3")
        _ = try curl(["-X", "POST", "-H", "Content-Type: text/plain", "--data-binary", "0", url + "/moto-api/reset-auth"], "turning authentication on")
        return (keyId, secret)
    }

    /// Runs the curl tool against this server; its output.
    @discardableResult
    private func curl(_ arguments: [String], _ action: String) throws -> Data {
        do {
            return try Self.run(Self.onPath("curl") ?? "/usr/bin/curl", ["-sS", "-f"] + (caFile.map { ["--cacert", $0] } ?? []) + arguments, action)
        } catch let error as TestEnvironmentError {
            throw TestEnvironmentError("\(error) \(log)")
        }
    }

    /// Runs a tool to its end; its output, or an error with what it said.
    private static func run(_ tool: String, _ arguments: [String], _ action: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestEnvironmentError("\(action) failed: \(problems)") }
        return data
    }

    /// What the server logged so far, for failure messages.
    public var log: String {
        (try? String(contentsOfFile: logFile, encoding: .utf8)).map { String($0.suffix(4000)) } ?? ""
    }

    /// Stops the server and removes its log. Idempotent.
    public func stop() {
        // SIGKILL: moto's server does not stop on SIGTERM, and it keeps nothing worth a clean exit.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: logFile)
        for file in [logFile + ".cert.pem", logFile + ".key.pem"] { try? FileManager.default.removeItem(atPath: file) }
    }

    /// Sends the server SIGKILL and returns: for an exit handler, where Foundation can no
    /// longer watch a process end (`waitUntilExit` would spin forever).
    public func terminateWithoutWaiting() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: logFile)
    }

    private static func onPath(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
