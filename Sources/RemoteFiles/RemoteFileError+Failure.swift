import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RemoteFileError {
    /// Puts a failed SFTP call in an operator's words: `action` ("uploading /tmp/x to"),
    /// `location` (the remote path as `sftp://user@host:port/path`), the cause and the fix.
    /// ssh's and the server's texts name hosts, ports and file errors, never the key
    /// passphrase; it is removed all the same should it ever appear.
    init(_ failure: SFTPFailure, action: String, location: String, endpoint: SFTPEndpoint, localPath: String? = nil) {
        let (kind, message) = Self.describe(failure, action: action, location: location, endpoint: endpoint, localPath: localPath)
        self.init(kind, Self.redacting(endpoint.keyPassphrase, in: message))
    }

    private static func describe(
        _ failure: SFTPFailure, action: String, location: String, endpoint: SFTPEndpoint, localPath: String?
    ) -> (Kind, String) {
        let failed = "\(action) \(location) failed"
        let server = endpoint.location(of: "")
        switch failure {
        case .cancelled:
            return (.cancelled, "\(action) \(location) was cancelled")
        case .closed:
            return (.cancelled, "\(failed): the SFTP session is closed")
        case .complete(let error):
            return (error.kind, error.kind == .localFile ? "\(failed): \(error.message)" : error.message)
        case .consumer(let description):
            return (.other, "\(action) \(location) stopped: the reader of the data failed: \(description)")
        case .listingTooLong:
            return (.other, "\(failed): the listing is longer than \(SFTPSession.maxListingBytes / 1024 / 1024) MiB")
        case .localRead(let code):
            return (.localFile, "\(failed): cannot read the local file \(localPath ?? ""): \(String(cString: strerror(code)))")
        case .localPipe(let code):
            return (.other, "\(failed): cannot make a pipe to ssh: \(String(cString: strerror(code)))")
        case .sshMissing(let tool):
            return (.other, "\(failed): OpenSSH's \(tool) is not installed; install the openssh-client package")
        case .sshDidNotStart(let why):
            return (.other, "\(failed): ssh did not start: \(why)")
        case .unreachable(let said):
            return (.unreachable, "\(failed): cannot connect to the SFTP server \(server) (\(Self.lastLines(said))); check the host, the port and the network")
        case .hostKeyMismatch(let offered):
            return (.hostKeyMismatch, """
                \(failed): the server offered host key \(offered.joined(separator: ", ")), but \(endpoint.hostKeySHA256) is pinned, \
                so no login was sent. If the server's key was changed on purpose, check the new one on the server with \
                `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub -E sha256` (compare each /etc/ssh/ssh_host_*_key.pub) \
                and pin it; otherwise something may be intercepting the connection
                """)
        case .sshEnded(let status, let stderr):
            return describeSetupFailure(stderr: Self.lastLines(stderr), status: status, failed: failed, server: server, endpoint: endpoint)
        case .connectionLost(let stderr):
            let said = Self.lastLines(stderr)
            return (.interrupted, "\(failed): the connection to \(server) broke\(said.isEmpty ? "" : " (\(said))")")
        case .stalled:
            return (.interrupted, "\(failed): the transfer stalled: nothing moved for \(endpoint.stallTimeout)")
        case .protocolViolation(let what):
            return (.other, "\(failed): the SFTP server broke the protocol: \(what)")
        case .status(let code, let message):
            let said = message.isEmpty ? "" : " (\(printable(message)))"
            switch SFTPStatusCode(rawValue: code) {
            case .noSuchFile: return (.notFound, "\(failed): no such file or directory\(said)")
            case .permissionDenied: return (.other, "\(failed): permission denied on the server\(said)")
            case .noConnection, .connectionLost: return (.interrupted, "\(failed): the server lost its connection\(said)")
            case .unsupported: return (.other, "\(failed): the server does not support this operation\(said)")
            default: return (.other, "\(failed): the server refused\(said); a full disk or a quota shows this way too")
            }
        }
    }

    /// ssh ended before the SFTP session was set up: what its last words mean.
    private static func describeSetupFailure(stderr: String, status: Int32?, failed: String, server: String, endpoint: SFTPEndpoint) -> (Kind, String) {
        let said = stderr.isEmpty ? "ssh exited with status \(status.map(String.init) ?? "?") and said nothing" : stderr
        if stderr.contains("Permission denied") || stderr.contains("incorrect passphrase") || stderr.contains("Load key") {
            return (.authenticationFailed, """
                \(failed): the server refused user \(endpoint.user) with key \(endpoint.privateKeyFile) (\(said)). Check \
                that the key's public half is in that user's authorized_keys on the server, and that the key's \
                passphrase is right if it has one
                """)
        }
        if stderr.contains("Host key verification failed") || stderr.contains("HOST IDENTIFICATION HAS CHANGED") {
            return (.hostKeyMismatch, "\(failed): the server's host key is not the pinned \(endpoint.hostKeySHA256) (\(said))")
        }
        if stderr.contains("subsystem request failed") {
            return (.other, "\(failed): the server at \(server) offers no sftp subsystem (\(said)); enable `Subsystem sftp` in its sshd_config")
        }
        let unreachable = [
            "Connection refused", "Connection timed out", "timed out", "No route to host", "Could not resolve", "Network is unreachable",
            "Connection closed", "Connection reset", "kex_exchange_identification", "Broken pipe",
        ]
        if unreachable.contains(where: stderr.contains) {
            return (.unreachable, "\(failed): the SSH connection to \(server) failed (\(said)); check the host, the port and the network")
        }
        return (.other, "\(failed): ssh could not set up the session with \(server) (\(said))")
    }

    /// The last few lines ssh printed, on one line.
    private static func lastLines(_ text: String) -> String {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return printable(lines.suffix(3).joined(separator: "; "))
    }

    /// A server's or ssh's text as one printable line of at most 300 characters: control
    /// characters become '?', so a hostile server cannot forge lines in a log.
    static func printable(_ text: String) -> String {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
        return cleaned.count > 300 ? String(cleaned.prefix(300)) + "..." : cleaned
    }

    static func redacting(_ secret: String?, in text: String) -> String {
        guard let secret, secret.count >= 4 else { return text }
        return text.replacingOccurrences(of: secret, with: "[redacted]")
    }
}
