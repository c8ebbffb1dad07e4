import CurlSupport

/// A session's libcurl handle (`CurlHandle`, which keeps the HTTP connection alive between
/// requests) and the endpoint its requests go to.
///
/// `perform` blocks; `S3Session` calls it only from its serial queue, one call at a time.
final class S3Connection: Sendable {
    private let handle: CurlHandle
    let endpoint: S3Endpoint

    init(endpoint: S3Endpoint) throws(CurlError) {
        handle = try CurlHandle()
        self.endpoint = endpoint
    }

    func close() { handle.close() }

    /// Runs one request to the end, or until `cancellation` is raised.
    func perform(_ request: S3Request, cancellation: CancellationFlag) throws(S3Failure) -> S3Response {
        try handle.withResetHandle(orElse: { .closed }) { pointer throws(S3Failure) in
            try S3Transfer(handle: pointer.pointer, endpoint: endpoint, request: request, cancellation: cancellation).run()
        }
    }
}
