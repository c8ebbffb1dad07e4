/// How an SFTP call failed, before it is put in an operator's words (see `SFTPSession`).
enum SFTPFailure: Error, Sendable {
    /// OpenSSH's `ssh` (or `ssh-keyscan`) is not installed.
    case sshMissing(String)
    /// The tool could not be started; why.
    case sshDidNotStart(String)
    /// A pipe to the tool could not be made (errno).
    case localPipe(Int32)
    /// The server offered no SSH host key: it did not answer, refused, or is no SSH server.
    case unreachable(String)
    /// None of the server's host keys is the pinned one; their fingerprints ("SHA256:..." and type).
    case hostKeyMismatch(offered: [String])
    /// ssh ended before the SFTP session was set up: its exit status and what it printed.
    case sshEnded(exitStatus: Int32?, stderr: String)
    /// The connection ended in the middle of a session; what ssh printed.
    case connectionLost(String)
    /// The server answered a request with an error status.
    case status(code: UInt32, message: String)
    /// The server's reply broke the protocol.
    case protocolViolation(String)
    /// Nothing moved for the endpoint's stall timeout.
    case stalled
    /// Reading the local file failed with this errno.
    case localRead(Int32)
    /// A failure with its message complete already (local files, a consumer's own error).
    case complete(RemoteFileError)
    /// The consumer of a download threw something else; its description.
    case consumer(String)
    case listingTooLong
    case cancelled
    case closed
}

extension SFTPFailure {
    /// What the caller's own code (a producer or consumer of the data) threw: a
    /// `RemoteFileError` comes back as it is, anything else by its description.
    static func caller(_ error: any Error) -> SFTPFailure {
        switch error {
        case let failure as SFTPFailure: failure
        case let error as RemoteFileError: .complete(error)
        default: .consumer(String(describing: error))
        }
    }
}

/// Runs `body`; a refusal the server answered with (a status) is passed over, any other failure
/// is thrown: for steps whose failure the next step finds out anyway.
func passingOverRefusal(_ body: () throws(SFTPFailure) -> Void) throws(SFTPFailure) {
    do throws(SFTPFailure) {
        try body()
    } catch {
        guard case .status = error else { throw error }
    }
}

/// The standard library's buffer accessors rethrow untyped errors; these keep `SFTPFailure`.
extension Array where Element == UInt8 {
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws(SFTPFailure) -> T) throws(SFTPFailure) -> T {
        try withUnsafeBytes { bytes in Result { () throws(SFTPFailure) in try body(bytes) } }.get()
    }

    mutating func withMutableBytes<T>(_ body: (UnsafeMutableRawBufferPointer) throws(SFTPFailure) -> T) throws(SFTPFailure) -> T {
        try withUnsafeMutableBytes { bytes in Result { () throws(SFTPFailure) in try body(bytes) } }.get()
    }
}
