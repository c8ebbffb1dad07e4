import Crypto
import Foundation
import RemoteFiles
import TestSupport

/// A loopback sshd, a session on it whose base directory is the server's `root`, and a local
/// scratch directory; all removed when the body ends.
struct SFTPFixture {
    let server: LoopbackSSHServer
    let session: SFTPSession
    let local: String

    static func with(_ body: (SFTPFixture) async throws -> Void) async throws {
        let server = try LoopbackSSHServer()
        defer { server.stop() }
        let local = FileManager.default.temporaryDirectory.appendingPathComponent("sftp-local-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: local) }
        let session = try SFTPSession(endpoint: try endpoint(server))
        defer { session.close() }
        do {
            try await body(SFTPFixture(server: server, session: session, local: local))
        } catch {
            // The server's side of the story, for whoever reads the failure.
            print("sshd log:\n\(server.log)")
            throw error
        }
    }

    static func endpoint(
        _ server: LoopbackSSHServer, key: String? = nil, passphrase: String? = nil, hostKey: String? = nil, port: Int? = nil
    ) throws -> SFTPEndpoint {
        var url = server.url(path: server.root)
        if let port { url = url.replacingOccurrences(of: ":\(server.port)/", with: ":\(port)/") }
        return try SFTPEndpoint(
            url: url, privateKeyFile: key ?? server.privateKeyFile, hostKeySHA256: hostKey ?? server.hostKeySHA256, keyPassphrase: passphrase
        )
    }

    /// A local file of `count` random bytes, and its SHA-256.
    func randomFile(_ name: String, count: Int) throws -> (path: String, sha256: String) {
        guard let random = FileHandle(forReadingAtPath: "/dev/urandom") else { throw TestEnvironmentError("cannot open /dev/urandom") }
        defer { try? random.close() }
        let bytes = count == 0 ? Data() : random.readData(ofLength: count)
        guard bytes.count == count else { throw TestEnvironmentError("short read from /dev/urandom") }
        let path = local + "/" + name
        try bytes.write(to: URL(fileURLWithPath: path))
        return (path, Self.hex(SHA256.hash(data: bytes)))
    }

    /// The server-side path of a remote path (the tests and sshd share the file system).
    func onServer(_ path: String) -> String { server.root + "/" + path }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
