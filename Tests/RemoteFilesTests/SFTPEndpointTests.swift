@testable import RemoteFiles
import Testing

/// Parsing "sftp://user@host[:port]/directory" and the pinned fingerprint; no server needed.
@Suite("SFTP endpoint")
struct SFTPEndpointTests {
    static let fingerprint = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"

    static func endpoint(_ url: String, fingerprint: String = fingerprint, passphrase: String? = nil) throws(RemoteFileError) -> SFTPEndpoint {
        try SFTPEndpoint(url: url, privateKeyFile: "/etc/orchestrator/id_ed25519", hostKeySHA256: fingerprint, keyPassphrase: passphrase)
    }

    @Test func aFullURLIsTakenApart() throws {
        let endpoint = try Self.endpoint("sftp://backup@offsite.example.org:2222/srv/backups/db1/")
        #expect(endpoint.user == "backup")
        #expect(endpoint.host == "offsite.example.org")
        #expect(endpoint.port == 2222)
        #expect(endpoint.basePath == "/srv/backups/db1")
        #expect(endpoint.connectTimeout == .seconds(20))
        #expect(endpoint.description == "sftp://backup@offsite.example.org:2222/srv/backups/db1")
    }

    @Test func thePortDefaultsTo22AndTheRootIsADirectory() throws {
        let endpoint = try Self.endpoint("SFTP://backup@10.1.2.3/")
        #expect(endpoint.port == 22)
        #expect(endpoint.basePath == "/")
        #expect(endpoint.description == "sftp://backup@10.1.2.3:22/")
    }

    @Test func anIPv6AddressAndEscapesAreUnderstood() throws {
        let endpoint = try Self.endpoint("sftp://back%20up@[::1]:2200/data/off%20site%23%C3%BC")
        #expect(endpoint.host == "::1")
        #expect(endpoint.user == "back up")
        #expect(endpoint.port == 2200)
        #expect(endpoint.basePath == "/data/off site#ü")
        #expect(endpoint.description == "sftp://back up@[::1]:2200/data/off site#ü")
    }

    @Test(arguments: [
        ("https://backup@host/dir", "sftp://"),
        ("scp://backup@host/dir", "sftp://"),
        ("sftp://host/dir", "no user"),
        ("sftp://@host/dir", "no usable user"),
        ("sftp://backup:secret@host/dir", "put no password in the URL: use key_file"),
        ("sftp://backup@host", "no directory"),
        ("sftp://backup@/dir", "no host"),
        ("sftp://backup@host:0/dir", "port"),
        ("sftp://backup@host:99999/dir", "port"),
        ("sftp://backup@host:ssh/dir", "port"),
        ("sftp://backup@-oProxyCommand/dir", "cannot have"),
        ("sftp://backup@host/srv/../etc", "'..'"),
        ("sftp://backup@host/srv/./backups", "'.'"),
        ("sftp://backup@host/srv//backups", "empty component"),
        ("sftp://backup@host/~/backups", "home directory"),
        ("sftp://backup@host/dir?x=1", "query"),
        ("sftp://backup@host/dir#frag", "fragment"),
        ("sftp://backup@host/dir%0Aevil", "control character"),
        ("sftp://backup@ho st/dir", "host name"),
    ])
    func badURLsAreRefused(url: String, reason: String) {
        let error = #expect(throws: RemoteFileError.self) { try Self.endpoint(url) }
        #expect(error?.kind == .invalidEndpoint)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        // A refused password is not repeated in the message.
        #expect(error?.message.contains("secret") == false)
    }

    @Test func theFingerprintIsKeptWithoutPaddingAndPaddingIsAccepted() throws {
        let padded = try Self.endpoint("sftp://backup@host/dir", fingerprint: Self.fingerprint + "=")
        #expect(padded.hostKeySHA256 == Self.fingerprint)
        #expect(padded.hostKeyBase64 == String(Self.fingerprint.dropFirst(7)))
        #expect(try Self.endpoint("sftp://backup@host/dir", fingerprint: " \(Self.fingerprint) ").hostKeySHA256 == Self.fingerprint)
    }

    @Test(arguments: [
        "",
        "uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",  // no "SHA256:"
        "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48",
        "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2",  // too short
        "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2sAA",  // too long
        "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2!",  // not base64
        "sha256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
    ])
    func malformedFingerprintsAreRefused(fingerprint: String) {
        let error = #expect(throws: RemoteFileError.self) { try Self.endpoint("sftp://backup@host/dir", fingerprint: fingerprint) }
        #expect(error?.kind == .invalidEndpoint)
        #expect(error?.message.contains("ssh-keygen -lf") == true)
    }

    @Test func thePassphraseIsNeverShown() throws {
        let endpoint = try Self.endpoint("sftp://backup@host/dir", passphrase: "hunter2-very-secret")
        #expect(!endpoint.description.contains("hunter2"))
        #expect(!String(describing: endpoint).contains("hunter2"))
        #expect(!String(reflecting: endpoint).contains("hunter2"))
        #expect(!String(describing: [endpoint]).contains("hunter2"))
        var dumped = ""
        dump(endpoint, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(endpoint.keyPassphrase == "hunter2-very-secret")
    }

    @Test func anEmptyKeyFileIsRefused() {
        let error = #expect(throws: RemoteFileError.self) {
            try SFTPEndpoint(url: "sftp://backup@host/dir", privateKeyFile: "", hostKeySHA256: Self.fingerprint)
        }
        #expect(error?.kind == .invalidEndpoint)
    }
}

/// Remote paths: what is refused before anything is sent, and how the rest is encoded.
@Suite("Remote paths")
struct RemotePathTests {
    @Test(arguments: ["", "/etc/passwd", "..", "a/../b", "a/./b", ".", "a//b", "a/", "line\nbreak", "tab\there"])
    func escapingOrAmbiguousPathsAreRefused(path: String) {
        let error = #expect(throws: RemoteFileError.self) { try RemotePath(path, base: "/srv/backups") }
        #expect(error?.kind == .invalidPath)
        #expect(error?.message.contains("refused") == true)
    }

    @Test func pathsAreJoinedToTheBase() throws {
        #expect(try RemotePath("a/b c", base: "/srv").absolute == "/srv/a/b c")
        #expect(try RemotePath("a", base: "/").absolute == "/a")
        #expect(try RemotePath("", base: "/srv", allowsBase: true).absolute == "/srv")
        #expect(try RemotePath("x/y/z", base: "/srv").selfAndAncestors == ["/srv/x", "/srv/x/y", "/srv/x/y/z"])
        // Directly under "/", some clients and servers read "~" as the home directory.
        #expect(throws: RemoteFileError.self) { try RemotePath("~backups", base: "/") }
        #expect(try RemotePath("~backups", base: "/srv").absolute == "/srv/~backups")
    }

    @Test func theDirectoriesAboveAPathAreListedShallowestFirst() throws {
        #expect(try RemotePath("x/y/z", base: "/srv").ancestors == ["/srv/x", "/srv/x/y"])
        #expect(try RemotePath("z", base: "/srv").ancestors == [])
    }
}
