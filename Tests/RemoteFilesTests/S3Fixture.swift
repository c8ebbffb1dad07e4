import Crypto
import Foundation
import RemoteFiles
import TestSupport

/// The run's moto server, a bucket of the test's own on it, a session on that bucket and a local scratch directory.
struct S3Fixture {
    let server: LoopbackS3Server
    let bucket: String
    let session: S3Session
    let local: String

    /// Fixed dummy credentials: moto accepts any. Long and distinctive, so a test can look for them in messages.
    static let accessKeyId = "AKIAORCHESTRATORTEST1"
    static let secretAccessKey = "s3cr3t/Orchestrator+Test/Key/0123456789abcd"

    static func with(
        prefix: String = "backups/db1", partSize: Int64 = 64 * 1024 * 1024, listPageSize: Int = 1000, _ body: (S3Fixture) async throws -> Void
    ) async throws {
        let server = try LoopbackS3Server.shared()
        let bucket = "test-" + UUID().uuidString.lowercased().prefix(18)
        try server.createBucket(bucket)
        let local = FileManager.default.temporaryDirectory.appendingPathComponent("s3-local-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: local) }
        let session = try S3Session(endpoint: try endpoint(server.url, bucket: bucket, prefix: prefix, partSize: partSize), listPageSize: listPageSize)
        defer { session.close() }
        do {
            try await body(S3Fixture(server: server, bucket: bucket, session: session, local: local))
        } catch {
            print("moto log:\n\(server.log)")
            throw error
        }
    }

    static func endpoint(_ url: String, bucket: String, prefix: String = "", partSize: Int64 = 64 * 1024 * 1024) throws -> S3Endpoint {
        var endpoint = try S3Endpoint(
            url: url, region: "eu-central-1", bucket: bucket, prefix: prefix, accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, partSize: partSize
        )
        endpoint.connectTimeout = .seconds(5)
        endpoint.stallTimeout = .seconds(10)
        return endpoint
    }

    /// A local file of `count` random bytes, and its SHA-256.
    func randomFile(_ name: String, count: Int) throws -> (path: String, sha256: String) {
        let bytes = Self.randomBytes(count)
        let path = local + "/" + name
        try bytes.write(to: URL(fileURLWithPath: path))
        return (path, Self.hex(bytes))
    }

    static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        var bytes = Data(count: count)
        bytes.withUnsafeMutableBytes { buffer in
            var index = 0
            while index < count {
                var value = generator.next()
                let step = min(8, count - index)
                withUnsafeBytes(of: &value) { buffer.baseAddress!.advanced(by: index).copyMemory(from: $0.baseAddress!, byteCount: step) }
                index += step
            }
        }
        return bytes
    }

    static func hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
