import Foundation

/// Where off-site copies go: an SFTP server, the directory on it, the key to log in with and the
/// host key to expect.
///
/// The host key is always pinned: there is no trust-on-first-use, so a server that was never
/// checked by a person is never sent a login.
public struct SFTPEndpoint: Sendable, Equatable, CustomStringConvertible {
    public let user: String
    public let host: String
    /// 22 when the URL has none.
    public let port: Int
    /// The absolute directory from the URL, without a trailing slash ("/" for the root). Every
    /// path a session is given is relative to it.
    public let basePath: String
    public let privateKeyFile: String
    /// The pinned host key, as `ssh-keygen -lf key.pub -E sha256` prints it on the server:
    /// "SHA256:" and 43 base64 characters (kept without '=' padding; padding is accepted).
    public let hostKeySHA256: String
    /// Unlocks `privateKeyFile`. Never printed, logged or put in an error.
    public let keyPassphrase: String?
    /// How long setting up the TCP connection and the SSH session may take.
    public var connectTimeout: Duration = .seconds(20)
    /// A transfer that moves no byte for this long is given up (interrupted). There is no
    /// limit on a whole transfer: a large file at a low rate limit takes as long as it takes.
    public var stallTimeout: Duration = .seconds(60)

    /// Parses "sftp://user@host[:port]/absolute/path". Refuses: other schemes, no user, a password in the URL
    /// ("put no password in the URL: use key_file"), no path, a relative or '..' path, a malformed fingerprint.
    public init(
        url: String, privateKeyFile: String, hostKeySHA256: String, keyPassphrase: String? = nil
    ) throws(RemoteFileError) {
        let parts = try URLParts(url)
        user = parts.user
        host = parts.host
        port = parts.port
        basePath = parts.path
        guard !privateKeyFile.isEmpty else { throw Self.invalid("no private key file given (key_file): SFTP logs in with a key only") }
        self.privateKeyFile = privateKeyFile
        guard let fingerprint = Self.normalizedFingerprint(hostKeySHA256) else {
            let shown = hostKeySHA256.count > 80 ? String(hostKeySHA256.prefix(80)) + "..." : hostKeySHA256
            throw Self.invalid(
                "the host key fingerprint \"\(shown)\" is not a SHA-256 fingerprint: give it as `ssh-keygen -lf "
                    + "/etc/ssh/ssh_host_ed25519_key.pub -E sha256` prints it on the server (\"SHA256:\" and 43 base64 characters)"
            )
        }
        self.hostKeySHA256 = fingerprint
        self.keyPassphrase = keyPassphrase
    }

    /// "sftp://user@host:port/path": never a secret (the URL can hold none).
    public var description: String { location(of: basePath) }

    /// How messages show a remote path: the server and the absolute path.
    func location(of absolutePath: String) -> String {
        "sftp://\(user)@\(hostForURL):\(port)\(absolutePath)"
    }

    /// IPv6 addresses go in brackets in a URL.
    var hostForURL: String { host.contains(":") ? "[\(host)]" : host }

    /// The base64 part that libcurl compares with the server's key (it ignores '=' padding).
    var hostKeyBase64: String { String(hostKeySHA256.dropFirst("SHA256:".count)) }

    /// "SHA256:" and the unpadded base64 of 32 bytes, or nil.
    static func normalizedFingerprint(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("SHA256:") else { return nil }
        var body = String(trimmed.dropFirst("SHA256:".count))
        while body.hasSuffix("=") { body.removeLast() }
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        guard body.count == 43, body.allSatisfy({ alphabet.contains($0) }),
              let bytes = Data(base64Encoded: body + "="), bytes.count == 32
        else { return nil }
        return "SHA256:" + body
    }

    static func invalid(_ reason: String) -> RemoteFileError {
        RemoteFileError(.invalidEndpoint, "invalid SFTP endpoint: \(reason)")
    }
}

/// `dump`, `debugPrint` and collections print an endpoint through these: the passphrase stays hidden there too.
extension SFTPEndpoint: CustomDebugStringConvertible, CustomReflectable {
    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "url": description, "privateKeyFile": privateKeyFile,
            "hostKeySHA256": hostKeySHA256, "keyPassphrase": keyPassphrase == nil ? "none" : "[redacted]",
        ])
    }
}

/// The pieces of an "sftp://user@host[:port]/path" URL, checked.
private struct URLParts {
    var user: String
    var host: String
    var port = 22
    var path: String

    init(_ url: String) throws(RemoteFileError) {
        let scheme = "sftp://"
        guard url.lowercased().hasPrefix(scheme) else {
            throw SFTPEndpoint.invalid("the URL must start with sftp:// (sftp://user@host[:port]/absolute/directory)")
        }
        let rest = url.dropFirst(scheme.count)
        guard let slash = rest.firstIndex(of: "/") else {
            throw SFTPEndpoint.invalid("the URL has no directory: give the absolute remote directory, as in sftp://user@host/backups")
        }
        let authority = rest[..<slash]
        let rawPath = rest[slash...]
        if rawPath.contains("?") || rawPath.contains("#") {
            throw SFTPEndpoint.invalid("the URL has a query or fragment ('?' or '#'); write such characters in a directory name as %3F and %23")
        }
        guard let at = authority.lastIndex(of: "@") else {
            throw SFTPEndpoint.invalid("the URL names no user: write it as sftp://user@host/directory")
        }
        let userInfo = authority[..<at]
        // Refused outright, before anything else is looked at: a password must not sit in configuration.
        guard !userInfo.contains(":") else { throw SFTPEndpoint.invalid("put no password in the URL: use key_file") }
        guard let decodedUser = String(userInfo).removingPercentEncoding, !decodedUser.isEmpty,
              !decodedUser.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "/" })
        else { throw SFTPEndpoint.invalid("the URL names no usable user: write it as sftp://user@host/directory") }
        user = decodedUser

        let hostPort = authority[authority.index(after: at)...]
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw SFTPEndpoint.invalid("the URL's IPv6 address has no closing ']'") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw SFTPEndpoint.invalid("unexpected text after the URL's IPv6 address") }
                portText = after.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw SFTPEndpoint.invalid("the URL's IPv6 address \"\(host)\" is not valid")
            }
        } else {
            if let colon = hostPort.firstIndex(of: ":") {
                host = String(hostPort[..<colon])
                portText = hostPort[hostPort.index(after: colon)...]
            } else {
                host = String(hostPort)
            }
            guard !host.isEmpty else { throw SFTPEndpoint.invalid("the URL names no host") }
            // A leading '-' would read as an option to ssh.
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }), !host.hasPrefix("-") else {
                throw SFTPEndpoint.invalid("the host name \"\(host)\" has characters a host name cannot have")
            }
        }
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw SFTPEndpoint.invalid("the port \"\(portText)\" is not a number from 1 to 65535")
            }
            port = number
        }

        guard let decoded = String(rawPath).removingPercentEncoding else {
            throw SFTPEndpoint.invalid("the URL's path has a malformed %-escape")
        }
        path = try Self.checkedDirectory(decoded)
    }

    /// An absolute directory without '.', '..', empty components or control characters, and
    /// without a trailing slash.
    static func checkedDirectory(_ decoded: String) throws(RemoteFileError) -> String {
        var path = decoded
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        if path == "/" { return path }
        let components = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for component in components {
            if component.isEmpty { throw SFTPEndpoint.invalid("the directory \"\(path)\" has an empty component ('//')") }
            if component == "." || component == ".." {
                throw SFTPEndpoint.invalid("the directory \"\(path)\" has a '\(component)' component: give the absolute directory as it is")
            }
            if component.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw SFTPEndpoint.invalid("the directory \"\(path)\" has a control character")
            }
        }
        // libcurl reads a path starting with "/~" as relative to the home directory.
        if components.first?.hasPrefix("~") == true {
            throw SFTPEndpoint.invalid("the directory \"\(path)\" is relative to the home directory: give it as an absolute path (e.g. /home/<user>/backups)")
        }
        return path
    }
}
