/// Why a remote file operation failed, in words an operator can act on.
///
/// `message` names the operation, the remote path (as `sftp://user@host:port/path`) and the
/// cause, and the fix when one is known. It never holds the key passphrase or key material,
/// so it may be logged and stored as it is.
public struct RemoteFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The remote file or directory does not exist.
        case notFound
        /// The server's host key is not the pinned one. Never retried: either the server's key
        /// changed (pin the new one) or something sits between us and the server.
        case hostKeyMismatch
        /// The server refused the key (or the key could not be used). Retrying cannot help.
        case authenticationFailed
        /// No SSH session could be set up: the host or port does not answer, refuses, or stalls.
        case unreachable
        /// The connection broke or stalled in the middle of an operation.
        case interrupted
        /// A local file could not be read, created or written.
        case localFile
        /// A remote path was refused before anything was sent (absolute, '..', empty component...).
        case invalidPath
        /// The endpoint (URL, fingerprint, key settings) is not usable.
        case invalidEndpoint
        /// The calling task was cancelled (or the session closed) and the operation stopped.
        case cancelled
        /// Anything else: permission denied, disk full, a failed rename...
        case other
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Worth another attempt later with backoff: the network or the server may come back. A host
    /// key or authentication failure will fail again in the same way, so it is not.
    public var isTransient: Bool { kind == .unreachable || kind == .interrupted }

    public var description: String { message }
}
