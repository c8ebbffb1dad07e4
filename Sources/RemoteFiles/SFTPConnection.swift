import CurlSupport

/// A session's libcurl handle (`CurlHandle`, which keeps the SSH connection alive between
/// transfers) and the endpoint its transfers go to.
///
/// `perform` blocks; `SFTPSession` calls it only from its serial queue, one call at a time.
final class SFTPConnection: Sendable {
    private let handle: CurlHandle
    let endpoint: SFTPEndpoint

    init(endpoint: SFTPEndpoint) throws(CurlError) {
        handle = try CurlHandle()
        self.endpoint = endpoint
    }

    /// Ends the SSH session (libcurl says goodbye to the server) and frees the handle.
    func close() { handle.close() }

    /// Runs one transfer to the end, or until `cancellation` is raised.
    func perform(_ request: SFTPRequest, cancellation: CancellationFlag) throws(SFTPFailure) -> SFTPOutcome {
        try handle.withResetHandle(orElse: { .closed }) { pointer throws(SFTPFailure) in
            try SFTPTransfer(handle: pointer.pointer, endpoint: endpoint, request: request, cancellation: cancellation).run()
        }
    }
}
