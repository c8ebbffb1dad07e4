import CCurl
import CurlSupport
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RemoteFileError {
    /// Puts a failed transfer in an operator's words: `action` ("uploading /tmp/x to"),
    /// `location` (the remote path as `sftp://user@host:port/path`), the cause and the fix.
    /// libcurl's text names hosts, ports and SFTP errors, never the key passphrase; it is
    /// removed all the same should it ever appear.
    init(_ failure: SFTPFailure, action: String, location: String, endpoint: SFTPEndpoint, localPath: String? = nil) {
        let (kind, message) = Self.describe(failure, action: action, location: location, endpoint: endpoint, localPath: localPath)
        self.init(kind, Self.redacting(endpoint.keyPassphrase, in: message))
    }

    private static func describe(
        _ failure: SFTPFailure, action: String, location: String, endpoint: SFTPEndpoint, localPath: String?
    ) -> (Kind, String) {
        switch failure {
        case .cancelled:
            return (.cancelled, "\(action) \(location) was cancelled")
        case .closed:
            return (.cancelled, "\(action) \(location) failed: the SFTP session is closed")
        case .complete(let error):
            return (error.kind, error.kind == .localFile ? "\(action) \(location) failed: \(error.message)" : error.message)
        case .consumer(let description):
            return (.other, "\(action) \(location) stopped: the reader of the data failed: \(description)")
        case .listingTooLong:
            return (.other, "\(action) \(location) failed: the listing is longer than \(SFTPTransfer.maxListingBytes / 1024 / 1024) MiB")
        case .localRead(let code):
            return (.localFile, "\(action) \(location) failed: cannot read the local file \(localPath ?? "")"
                + ": \(String(cString: strerror(code)))")
        case .hostKeyMismatch(let offered):
            let shown = offered.map { "SHA256:" + $0 } ?? "(not reported)"
            return (.hostKeyMismatch, """
                \(action) \(location) failed: the server offered host key \(shown), but \(endpoint.hostKeySHA256) is pinned, \
                so no login was sent. If the server's key was changed on purpose, check the new one on the server with \
                `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub -E sha256` (the server may have offered another of its \
                keys, e.g. ECDSA: compare each /etc/ssh/ssh_host_*_key.pub) and pin it; otherwise something may be \
                intercepting the connection
                """)
        case .curl(let error, let reachedServer):
            return describe(error, reachedServer: reachedServer, action: action, location: location, server: endpoint.location(of: ""), endpoint: endpoint)
        }
    }

    private static func describe(
        _ error: CurlError, reachedServer: Bool, action: String, location: String, server: String, endpoint: SFTPEndpoint
    ) -> (Kind, String) {
        let failed = "\(action) \(location) failed"
        switch CURLcode(UInt32(clamping: error.code)) {
        case CURLE_PEER_FAILED_VERIFICATION:
            return (.hostKeyMismatch, "\(failed): the server's host key is not the pinned \(endpoint.hostKeySHA256)")
        case CURLE_LOGIN_DENIED:
            return (.authenticationFailed, """
                \(failed): the server refused user \(endpoint.user) with key \(endpoint.privateKeyFile) (\(error)). Check \
                that the key's public half is in that user's authorized_keys on the server, and that the key's \
                passphrase is right if it has one
                """)
        case CURLE_REMOTE_FILE_NOT_FOUND:
            return (.notFound, "\(failed): no such file or directory")
        case CURLE_QUOTE_ERROR where error.message.contains("No such file"):
            return (.notFound, "\(failed): no such file or directory (\(error))")
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST:
            return (.unreachable, "\(failed): cannot reach the SFTP server \(server) (\(error)); check the host, the port and the network")
        case CURLE_OPERATION_TIMEDOUT where !reachedServer:
            return (.unreachable, "\(failed): the SFTP server \(server) did not set up a session in time (\(error))")
        case CURLE_OPERATION_TIMEDOUT:
            return (.interrupted, "\(failed): the transfer stalled (\(error))")
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_AGAIN:
            return (reachedServer ? .interrupted : .unreachable, "\(failed): the connection broke (\(error))")
        case CURLE_SSH where isConnectionFailure(error.message), CURLE_FAILED_INIT where isConnectionFailure(error.message):
            return (reachedServer ? .interrupted : .unreachable, "\(failed): the SSH connection to \(server) failed (\(error))")
        case CURLE_REMOTE_ACCESS_DENIED:
            return (.other, "\(failed): permission denied on the server (\(error))")
        case CURLE_REMOTE_DISK_FULL:
            return (.other, "\(failed): the server's disk is full (\(error))")
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_NOT_BUILT_IN, CURLE_UNKNOWN_OPTION:
            return (.other, "\(failed): the linked libcurl (\(CurlLibrary.version)) lacks SFTP or host key pinning (\(error)); it needs 7.80 or later built with libssh2")
        default:
            return (.other, "\(failed): \(error)")
        }
    }

    /// The server's fingerprint from libcurl's "mismatch sha256 fingerprint. Remote <base64> is
    /// not equal to <pinned>", without padding; nil when the text is not base64.
    static func offeredFingerprint(in message: String) -> String? {
        guard let start = message.range(of: "Remote "), let end = message.range(of: " is not equal to", range: start.upperBound..<message.endIndex) else {
            return nil
        }
        var text = String(message[start.upperBound..<end.lowerBound])
        while text.hasSuffix("=") { text.removeLast() }
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        return text.count == 43 && text.allSatisfy({ alphabet.contains($0) }) ? text : nil
    }

    /// libssh2's socket, banner and timeout failures while setting up or using a session
    /// ("Failure establishing ssh session: -43, Failed getting banner"); a key exchange that
    /// finds no common algorithm is not one of them.
    private static func isConnectionFailure(_ message: String) -> Bool {
        let markers = ["banner", "Banner", "socket", "Socket", "disconnect", "Disconnect", "timed out", "Timed out", "-2,", "-7,", "-9,", "-13,", "-30,", "-43,"]
        return markers.contains { message.contains($0) }
    }

    static func redacting(_ secret: String?, in text: String) -> String {
        guard let secret, secret.count >= 4 else { return text }
        return text.replacingOccurrences(of: secret, with: "[redacted]")
    }
}
