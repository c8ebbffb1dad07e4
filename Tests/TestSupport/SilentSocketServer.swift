import Dispatch

/// Accepts a connection, reads the request line, and answers nothing until stopped: a peer that
/// hangs, for timeout and cancellation tests.
public final class SilentSocketServer: Sendable {
    private let release = DispatchSemaphore(value: 0)
    private let server: LocalSocketServer

    public var port: Int { server.port }

    public init() throws {
        let release = self.release
        server = try LocalSocketServer { connection in
            _ = connection.readLine()
            _ = release.wait(timeout: .now() + 15)
        }
    }

    public func stop() {
        release.signal()
        server.stop()
    }
}
