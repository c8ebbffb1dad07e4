import Foundation
import RemoteFiles
import Testing
import TestSupport

/// Who is trusted: the pinned host key, the client key and its passphrase, and what errors say.
@Suite("SFTP trust")
struct SFTPTrustTests {
    static let otherFingerprint = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"

    @Test func aWrongHostKeyIsRefusedAndBothFingerprintsAreShown() async throws {
        try await SFTPFixture.with { fixture in
            let session = try SFTPSession(endpoint: try SFTPFixture.endpoint(fixture.server, hostKey: Self.otherFingerprint))
            defer { session.close() }
            let error = await #expect(throws: RemoteFileError.self) { try await session.list("") }
            #expect(error?.kind == .hostKeyMismatch)
            #expect(error?.isTransient == false)
            #expect(error?.message.contains(Self.otherFingerprint) == true, "\(error?.message ?? "")")
            #expect(error?.message.contains(fixture.server.hostKeySHA256) == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("ssh-keygen -lf") == true)
        }
    }

    @Test func aKeyTheServerDoesNotKnowIsRefused() async throws {
        try await SFTPFixture.with { fixture in
            let session = try SFTPSession(endpoint: try SFTPFixture.endpoint(fixture.server, key: fixture.server.strangerKeyFile))
            defer { session.close() }
            let error = await #expect(throws: RemoteFileError.self) { try await session.size(of: "x") }
            #expect(error?.kind == .authenticationFailed)
            #expect(error?.isTransient == false)
            #expect(error?.message.contains(fixture.server.user) == true)
            #expect(error?.message.contains("authorized_keys") == true)
        }
    }

    @Test func anUnreadableKeyFileIsALocalError() async throws {
        let server = try LoopbackSSHServer()
        defer { server.stop() }
        let error = #expect(throws: RemoteFileError.self) {
            try SFTPSession(endpoint: try SFTPFixture.endpoint(server, key: server.directory + "/no-such-key"))
        }
        #expect(error?.kind == .localFile)
        #expect(error?.message.contains("no-such-key") == true)
    }

    @Test func aClosedPortIsUnreachableAndTransient() async throws {
        let server = try LoopbackSSHServer()
        defer { server.stop() }
        let session = try SFTPSession(endpoint: try SFTPFixture.endpoint(server, port: try LoopbackPort.free()))
        defer { session.close() }
        let error = await #expect(throws: RemoteFileError.self) { try await session.list("") }
        #expect(error?.kind == .unreachable)
        #expect(error?.isTransient == true)
        #expect(error?.message.contains("127.0.0.1") == true)
    }

    @Test func aKeyFileWhosePathHasSpacesAndPercentSignsIsUsedAsItIs() async throws {
        try await SFTPFixture.with { fixture in
            let directory = fixture.local + "/key dir %h %%"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let key = directory + "/id key"
            try FileManager.default.copyItem(atPath: fixture.server.privateKeyFile, toPath: key)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
            let session = try SFTPSession(endpoint: try SFTPFixture.endpoint(fixture.server, key: key))
            defer { session.close() }
            #expect(try await session.list("") == [])
        }
    }

    @Test func aPassphraseProtectedKeyWorksAndThePassphraseIsNeverShown() async throws {
        try await SFTPFixture.with { fixture in
            let server = fixture.server
            let endpoint = try SFTPFixture.endpoint(server, key: server.protectedKeyFile, passphrase: server.passphrase)
            let session = try SFTPSession(endpoint: endpoint)
            defer { session.close() }
            let file = try fixture.randomFile("f", count: 1000)
            try await session.upload(file: file.path, to: "protected/f")
            #expect(try await session.sha256(of: "protected/f").sha256 == file.sha256)
            #expect(!endpoint.description.contains(server.passphrase))
            #expect(!String(describing: endpoint).contains(server.passphrase))

            var errors: [RemoteFileError?] = []
            // Every kind of failure this endpoint can produce, with the passphrase set.
            errors.append(await #expect(throws: RemoteFileError.self) { try await session.list("missing") })
            errors.append(await #expect(throws: RemoteFileError.self) { try await session.remove("missing") })
            errors.append(await #expect(throws: RemoteFileError.self) { try await session.upload(file: "/nonexistent", to: "x") })
            let wrongHost = try SFTPSession(endpoint: try SFTPFixture.endpoint(server, key: server.protectedKeyFile, passphrase: server.passphrase, hostKey: Self.otherFingerprint))
            defer { wrongHost.close() }
            errors.append(await #expect(throws: RemoteFileError.self) { try await wrongHost.list("") })
            let closed = try SFTPSession(endpoint: try SFTPFixture.endpoint(server, key: server.protectedKeyFile, passphrase: server.passphrase, port: try LoopbackPort.free()))
            defer { closed.close() }
            errors.append(await #expect(throws: RemoteFileError.self) { try await closed.list("") })
            let wrongPassphrase = try SFTPSession(endpoint: try SFTPFixture.endpoint(server, key: server.protectedKeyFile, passphrase: "not " + server.passphrase))
            defer { wrongPassphrase.close() }
            let refused = await #expect(throws: RemoteFileError.self) { try await wrongPassphrase.list("") }
            #expect(refused?.kind == .authenticationFailed)
            errors.append(refused)
            #expect(errors.allSatisfy { $0 != nil })
            for error in errors.compactMap({ $0 }) {
                #expect(!error.message.contains(server.passphrase), "\(error.message)")
                #expect(!error.description.contains(server.passphrase))
                #expect(!String(describing: error).contains(server.passphrase))
            }
        }
    }
}
