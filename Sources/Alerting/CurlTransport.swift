import BlockingWork
import CurlSupport

/// Performs transfers off Swift's cooperative pool: each transfer gets its own easy handle and a
/// thread of the executor's jobs lane for as long as it blocks, and the awaiting task resumes
/// through a continuation. Cancelling that task aborts the transfer within about a second
/// (libcurl's progress callback sees the flag).
public struct CurlTransport: Sendable {
    private let executor: BlockingExecutor

    public init(executor: BlockingExecutor = .shared) {
        self.executor = executor
    }

    public func perform(_ request: CurlRequest) async throws(CurlError) -> CurlResponse {
        if Task.isCancelled { throw CurlError.cancelled }
        let cancellation = CancellationFlag()
        let result: Result<CurlResponse, CurlError> = await withTaskCancellationHandler {
            await executor.run(.jobs) {
                Result { () throws(CurlError) -> CurlResponse in
                    let handle = try CurlEasyHandle()
                    defer { handle.close() }
                    return try handle.perform(request, cancellation: cancellation)
                }
            }
        } onCancel: {
            cancellation.raise()
        }
        return try result.get()
    }
}
