import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A TCP server on 127.0.0.1 and a free port, serving one connection at a time on a thread of
/// its own, for tests of clients that speak a network protocol (HTTP, SMTP).
public final class LocalSocketServer: Sendable {
    public let port: Int
    private let listener: Int32
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    public init(handler: @escaping @Sendable (SocketConnection) -> Void) throws {
        (listener, port) = try LoopbackListener.open()
        let thread = Thread { [self] in
            acceptLoop(handler)
            finished.signal()
        }
        thread.start()
    }

    deinit { stop() }

    /// Stops accepting and waits for the connection being served, if any, to end.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
        Glibc.close(listener)
    }

    /// A port nothing listens on (bound, then released): connections to it are refused.
    public static func closedPort() throws -> Int {
        let server = try LocalSocketServer { _ in }
        let port = server.port
        server.stop()
        return port
    }

    private func acceptLoop(_ handler: @Sendable (SocketConnection) -> Void) {
        while !stopped.load(ordering: .acquiring) {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let connection = SocketConnection(descriptor: client)
            handler(connection)
            connection.close()
        }
    }
}

/// One accepted connection: buffered line and byte reads, writes.
public final class SocketConnection {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var closed = false

    init(descriptor: Int32) { self.descriptor = descriptor }

    /// A line without its CRLF (or LF); nil when the peer closed or went silent.
    public func readLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard fill() else { return nil }
        }
    }

    /// Exactly `count` bytes, or nil when the peer closed first.
    public func read(count: Int) -> [UInt8]? {
        while buffer.count < count {
            guard fill() else { return nil }
        }
        let bytes = Array(buffer.prefix(count))
        buffer.removeFirst(count)
        return bytes
    }

    public func write(_ text: String) {
        var bytes = Array(text.utf8)
        while !bytes.isEmpty {
            let written = send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL))
            guard written > 0 else { return }
            bytes.removeFirst(written)
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(descriptor)
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &chunk, chunk.count, 0)
        guard count > 0 else { return false }
        buffer += chunk.prefix(count)
        return true
    }
}
