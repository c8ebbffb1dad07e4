import Dispatch

/// Performs transfers off Swift's cooperative pool: each transfer gets its own easy handle on its
/// own serial dispatch queue (a thread of its own for as long as it blocks), and the awaiting
/// task resumes through a continuation. Cancelling that task aborts the transfer within about a
/// second (libcurl's progress callback sees the flag).
public struct CurlTransport: Sendable {
    public init() {}

    public func perform(_ request: CurlRequest) async throws(CurlError) -> CurlResponse {
        if Task.isCancelled { throw CurlError.cancelled }
        let cancellation = CancellationFlag()
        let result: Result<CurlResponse, CurlError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                DispatchQueue(label: "orchestrator.curl.transfer").async {
                    continuation.resume(returning: Result { () throws(CurlError) -> CurlResponse in
                        let handle = try CurlEasyHandle()
                        defer { handle.close() }
                        return try handle.perform(request, cancellation: cancellation)
                    })
                }
            }
        } onCancel: {
            cancellation.raise()
        }
        return try result.get()
    }
}
