import Foundation
import RemoteFiles
import Testing
import TestSupport

/// Objects through a real S3 emulator (moto's server) on loopback.
@Suite("S3 session")
struct S3SessionTests {
    @Test func aSmallFileMakesTheRoundTripByteForByte() async throws {
        try await S3Fixture.with { (fixture: S3Fixture) async throws in
            let count = 300 * 1024 + 17
            let (path, sha256) = try fixture.randomFile("base.tar", count: count)
            let reported = Locked<[Int64]>([])
            let sent = try await fixture.session.upload(file: path, to: "2026-11-30/base.tar") { bytes in reported.withLock { $0.append(bytes) } }
            #expect(sent == Int64(count))
            #expect(reported.withLock { $0.last } == Int64(count))

            #expect(try await fixture.session.size(of: "2026-11-30/base.tar") == Int64(count))
            let remote = try await fixture.session.sha256(of: "2026-11-30/base.tar")
            #expect(remote.bytes == Int64(count) && remote.sha256 == sha256)

            let copy = fixture.local + "/copy.tar"
            let downloaded = try await fixture.session.download("2026-11-30/base.tar", to: copy)
            #expect(downloaded.bytes == Int64(count) && downloaded.sha256 == sha256)
            #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(contentsOf: URL(fileURLWithPath: path)))
            let mode = try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int
            #expect(mode == 0o600)

            let chunks = Locked<[Int]>([])
            let read = try await fixture.session.read("2026-11-30/base.tar") { chunk in chunks.withLock { $0.append(chunk.count) } }
            #expect(read == Int64(count))
            #expect(chunks.withLock { $0.reduce(0, +) } == count)
            #expect(chunks.withLock { $0.count } > 1)
        }
    }

    @Test func anEmptyObjectIsKeptAndReadBack() async throws {
        try await S3Fixture.with { (fixture: S3Fixture) async throws in
            #expect(try await fixture.session.upload(size: 0, to: "empty") { _ in 0 } == 0)
            #expect(try await fixture.session.size(of: "empty") == 0)
            let (bytes, sha256) = try await fixture.session.sha256(of: "empty")
            #expect(bytes == 0 && sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            #expect(try await fixture.session.list("") == ["empty"])
        }
    }

    @Test func largeObjectsGoUpInPartsFromAFileAndFromAProducer() async throws {
        try await S3Fixture.with(partSize: S3Endpoint.minimumPartSize) { (fixture: S3Fixture) async throws in
            let count = 12 * 1024 * 1024 + 4321
            let (path, sha256) = try fixture.randomFile("big", count: count)
            let reported = Locked<[Int64]>([])
            #expect(try await fixture.session.upload(file: path, to: "big-from-file") { bytes in reported.withLock { $0.append(bytes) } } == Int64(count))
            #expect(reported.withLock { $0.last } == Int64(count))
            #expect(reported.withLock { $0 == $0.sorted() })
            #expect(try await fixture.session.sha256(of: "big-from-file") == (Int64(count), sha256))

            // The producer hands out odd-sized pieces, so pieces straddle the part boundaries.
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let offset = Locked(0)
            let sent = try await fixture.session.upload(size: Int64(count), to: "big-from-producer") { buffer in
                offset.withLock { position in
                    let length = min(buffer.count, 70_001, data.count - position)
                    data.copyBytes(to: buffer.bindMemory(to: UInt8.self), from: position..<position + length)
                    position += length
                    return length
                }
            }
            #expect(sent == Int64(count))
            #expect(try await fixture.session.sha256(of: "big-from-producer") == (Int64(count), sha256))
            #expect(try await fixture.session.incompleteUploads().isEmpty)
        }
    }

    @Test func aProducerThatEndsShortOrRunsOverLeavesNoObjectAndNoParts() async throws {
        try await S3Fixture.with(partSize: S3Endpoint.minimumPartSize) { (fixture: S3Fixture) async throws in
            for announced: Int64 in [1000, 7 * 1024 * 1024] {
                let produced = Locked(0)
                let error = await #expect(throws: RemoteFileError.self) {
                    try await fixture.session.upload(size: announced, to: "short-\(announced)") { buffer in
                        produced.withLock { total in
                            guard total < 600 else { return 0 }
                            total += 300
                            buffer.initializeMemory(as: UInt8.self, repeating: 7)
                            return 300
                        }
                    }
                }
                #expect(error?.description.contains("ended at byte") == true)
                #expect(try await fixture.session.size(of: "short-\(announced)") == nil)
            }
            let overrun = await #expect(throws: RemoteFileError.self) {
                try await fixture.session.upload(size: 10, to: "long") { buffer in buffer.count }
            }
            #expect(overrun?.description.contains("runs past") == true)
            #expect(try await fixture.session.size(of: "long") == nil)
            #expect(try await fixture.session.incompleteUploads().isEmpty)
        }
    }

    @Test func listingShowsOneLevelAndFollowsContinuation() async throws {
        try await S3Fixture.with(listPageSize: 2) { (fixture: S3Fixture) async throws in
            for path in ["a", "b", "c/1", "c/2", "d/e/f", "e"] {
                try await fixture.session.upload(size: 1, to: path) { buffer in buffer.storeBytes(of: 65, as: UInt8.self); return 1 }
            }
            #expect(try await fixture.session.list("") == ["a", "b", "c", "d", "e"])
            #expect(try await fixture.session.list("c") == ["1", "2"])
            #expect(try await fixture.session.list("d") == ["e"])
            #expect(try await fixture.session.list("nothing") == [])
        }
    }

    @Test func removeAndRemoveTreeDeleteObjects() async throws {
        try await S3Fixture.with { (fixture: S3Fixture) async throws in
            for path in ["keep", "tree/a", "tree/b/c", "tree/b/d"] {
                try await fixture.session.upload(size: 1, to: path) { buffer in buffer.storeBytes(of: 65, as: UInt8.self); return 1 }
            }
            try await fixture.session.makeDirectory("tree/new")
            try await fixture.session.remove("tree/a")
            #expect(try await fixture.session.size(of: "tree/a") == nil)
            let missing = await #expect(throws: RemoteFileError.self) { try await fixture.session.remove("tree/a") }
            #expect(missing?.kind == .notFound)
            try await fixture.session.removeTree("tree")
            try await fixture.session.removeTree("tree")
            #expect(try await fixture.session.list("") == ["keep"])
        }
    }

    @Test func aMissingObjectIsNotFound() async throws {
        try await S3Fixture.with { (fixture: S3Fixture) async throws in
            #expect(try await fixture.session.size(of: "missing") == nil)
            let read = await #expect(throws: RemoteFileError.self) { try await fixture.session.read("missing") { _ in } }
            #expect(read?.kind == .notFound)
            #expect(read?.description.contains("s3://\(fixture.bucket)/backups/db1/missing") == true)
            let copy = fixture.local + "/missing"
            let download = await #expect(throws: RemoteFileError.self) { try await fixture.session.download("missing", to: copy) }
            #expect(download?.kind == .notFound)
            #expect(!FileManager.default.fileExists(atPath: copy))
        }
    }

    @Test func hostileNamesSurviveEveryOperation() async throws {
        try await S3Fixture.with(prefix: "pré fix/#1") { (fixture: S3Fixture) async throws in
            let names = ["a b", "hash#tag", "what?", "100%", "1+1=2", "this&that", "Резервная копия", "quote'\"", "semi;colon", "~tilde*star"]
            for name in names {
                let path = "dir %2F/" + name
                let (file, sha256) = try fixture.randomFile("source", count: 1000)
                defer { try? FileManager.default.removeItem(atPath: file) }
                try await fixture.session.upload(file: file, to: path)
                #expect(try await fixture.session.size(of: path) == 1000, "\(name)")
                #expect(try await fixture.session.sha256(of: path).sha256 == sha256, "\(name)")
                let copy = fixture.local + "/copy"
                #expect(try await fixture.session.download(path, to: copy).sha256 == sha256, "\(name)")
                try FileManager.default.removeItem(atPath: copy)
            }
            #expect(try await fixture.session.list("") == ["dir %2F"])
            #expect(Set(try await fixture.session.list("dir %2F")) == Set(names))
            try await fixture.session.remove("dir %2F/" + names[0])
            try await fixture.session.removeTree("dir %2F")
            #expect(try await fixture.session.list("") == [])
        }
    }

    @Test func credentialsNeverAppearInErrors() async throws {
        try await S3Fixture.with { (fixture: S3Fixture) async throws in
            // A bucket that does not exist: moto's error quotes the request, the server may quote the key id.
            let endpoint = try S3Fixture.endpoint(fixture.server.url, bucket: "no-such-bucket-here")
            let session = try S3Session(endpoint: endpoint)
            defer { session.close() }
            let error = await #expect(throws: RemoteFileError.self) { try await session.read("x") { _ in } }
            #expect(error?.kind == .notFound)
            for text in [error?.description ?? "", "\(endpoint)", String(reflecting: endpoint), { var dumped = ""; dump(endpoint, to: &dumped); return dumped }()] {
                #expect(!text.contains(S3Fixture.accessKeyId), "\(text)")
                #expect(!text.contains(S3Fixture.secretAccessKey), "\(text)")
            }
        }
    }

    /// A server that checks every signature (moto recomputing each with botocore, AWS's SDK):
    /// uploads (multipart too), sizes, reads and removals signed with the right key pass, under a
    /// prefix with a space; a wrong secret is refused as a failed login, never echoed.
    @Test func aServerThatChecksSignaturesAcceptsOursAndRefusesAWrongSecret() async throws {
        let server = try LoopbackS3Server()
        defer { server.stop() }
        try server.createBucket("signed")
        let key = try server.requireSignatures()
        let local = FileManager.default.temporaryDirectory.appendingPathComponent("s3-signed-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: local) }
        var endpoint = try S3Endpoint(
            url: server.url, region: "eu-central-1", bucket: "signed", prefix: "nuc/db 1", accessKeyId: key.accessKeyId,
            secretAccessKey: key.secretAccessKey, partSize: S3Endpoint.minimumPartSize
        )
        endpoint.stallTimeout = .seconds(10)
        let session = try S3Session(endpoint: endpoint)
        defer { session.close() }
        let bytes = S3Fixture.randomBytes(Int(S3Endpoint.minimumPartSize) + 1000)
        try bytes.write(to: URL(fileURLWithPath: local + "/big"))
        // Spaces and '#' only: moto cannot check keys with '+', '%', ';', '\'', '*' or non-ASCII
        // characters (boto3's own requests fail there too); hostileNamesSurviveEveryOperation
        // sends those to an unchecking server.
        for name in ["daily/base.tar.zst", "daily/a b#1", "daily/x/y/z"] {
            try await session.upload(file: local + "/big", to: name)
            #expect(try await session.size(of: name) == Int64(bytes.count), "\(name)")
            #expect(try await session.sha256(of: name).sha256 == S3Fixture.hex(bytes), "\(name)")
        }
        // (Listings are not checked here: moto miscomputes the signature of any ListObjectsV2 whose
        // prefix holds a '/', boto3's included.)
        try await session.remove("daily/base.tar.zst")
        #expect(try await session.size(of: "daily/base.tar.zst") == nil)

        let wrong = try S3Session(endpoint: try S3Endpoint(
            url: server.url, region: "eu-central-1", bucket: "signed", accessKeyId: key.accessKeyId, secretAccessKey: "wrong/" + key.secretAccessKey
        ))
        defer { wrong.close() }
        let error = await #expect(throws: RemoteFileError.self) { try await wrong.upload(file: local + "/big", to: "refused") }
        #expect(error?.kind == .authenticationFailed, "\(error as Any)")
        #expect(error.map { !$0.description.contains(key.secretAccessKey) && !$0.description.contains(key.accessKeyId) } == true, "\(error as Any)")
    }

    /// https with a private CA: refused (as a host that is not the one trusted, not retried)
    /// until the endpoint's `caFile` names the CA; then every call goes over TLS.
    @Test func anHTTPSServerIsTrustedOnlyThroughItsCA() async throws {
        let server = try LoopbackS3Server(tls: true)
        defer { server.stop() }
        try server.createBucket("tls")
        let local = FileManager.default.temporaryDirectory.appendingPathComponent("s3-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: local) }
        let bytes = S3Fixture.randomBytes(100_000)
        try bytes.write(to: URL(fileURLWithPath: local + "/file"))

        var endpoint = try S3Fixture.endpoint(server.url, bucket: "tls")
        let untrusting = try S3Session(endpoint: endpoint)
        defer { untrusting.close() }
        let refused = await #expect(throws: RemoteFileError.self) { try await untrusting.upload(file: local + "/file", to: "refused") }
        #expect(refused?.kind == .hostKeyMismatch && refused?.isTransient == false, "\(refused as Any)")
        #expect(refused?.description.contains("TLS certificate is not trusted") == true, "\(refused as Any)")

        endpoint.caFile = server.caFile
        let trusting = try S3Session(endpoint: endpoint)
        defer { trusting.close() }
        try await trusting.upload(file: local + "/file", to: "over/tls")
        #expect(try await trusting.sha256(of: "over/tls").sha256 == S3Fixture.hex(bytes))
        #expect(try await trusting.list("over") == ["tls"])
    }

    @Test func aClosedPortIsATransientError() async throws {
        let port = try LoopbackPort.free()
        let session = try S3Session(endpoint: try S3Fixture.endpoint("http://127.0.0.1:\(port)", bucket: "closed-port"))
        defer { session.close() }
        let error = await #expect(throws: RemoteFileError.self) { _ = try await session.size(of: "x") }
        #expect(error?.kind == .unreachable)
        #expect(error?.isTransient == true)
    }

    @Test func endpointsAreChecked() throws {
        let good = try S3Fixture.endpoint("https://s3.eu-central-1.amazonaws.com/", bucket: "my-bucket.backups")
        #expect(good.url == "https://s3.eu-central-1.amazonaws.com")
        #expect("\(good)" == "s3://my-bucket.backups/ at https://s3.eu-central-1.amazonaws.com")
        for (url, bucket) in [("ftp://host", "bucket"), ("https://user:pw@host", "bucket"), ("https://host/path", "bucket"),
                              ("https://host", "Bucket"), ("https://host", "ab"), ("https://host", "under_score"), ("https://host", "-dash")] {
            #expect(throws: RemoteFileError.self, "\(url) \(bucket)") { try S3Fixture.endpoint(url, bucket: bucket) }
        }
        #expect(throws: RemoteFileError.self) { try S3Fixture.endpoint("https://host", bucket: "bucket", partSize: 1024) }
        #expect(throws: RemoteFileError.self) {
            try S3Endpoint(url: "https://host", region: "", bucket: "bucket", accessKeyId: "a", secretAccessKey: "b")
        }
        #expect(throws: RemoteFileError.self) {
            try S3Endpoint(url: "https://host", region: "eu-west-1", bucket: "bucket", prefix: "a/../b", accessKeyId: "a", secretAccessKey: "b")
        }
    }
}
