import Foundation
import PostgresClient
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on 127.0.0.1 in front of the test server that can stop answering without ever
/// refusing: it accepts every connection, and while silent passes nothing, so a client learns
/// nothing and waits, as behind a route that drops packets. (A server that refuses, which
/// clients notice at once, is `LocalSocketServer.closedPort()`.)
///
/// * `goSilent()`: new connections are held without a byte; sessions already forwarded keep
///   working (a cancel request that hangs while its session is fine).
/// * `goUnreachable()`: the same, and forwarded sessions stop too: what either side sends is
///   swallowed, nothing arrives, nobody is told.
///
/// `speakAgain()` forwards new connections again and closes the held ones; after
/// `goUnreachable()` it also cuts the sessions that were swallowing, as TCP ends a session whose
/// packets were lost for long (their statements are lost, so the streams cannot resume). Held
/// connections are also closed after `holdLimit`, so a client stuck on one cannot hang a test
/// for ever.
public final class TCPProxy: Sendable {
    /// Where the server listens: a Unix socket path or a TCP address.
    enum Upstream: Sendable {
        case unix(path: String)
        case tcp(address: String, port: String)
    }

    private enum Mode {
        case forwarding
        case silent
        case unreachable
    }

    private struct State {
        var mode = Mode.forwarding
        var held: [(descriptor: Int32, since: ContinuousClock.Instant)] = []
        var accepted = 0
        /// Both ends of every forwarded session (the client's from the moment it is accepted).
        var forwarding: Set<Int32> = []
        var swallowed = 0
    }

    public let port: Int
    private let upstream: Upstream
    private let listener: Int32
    private let holdLimit: Duration
    private let state = Mutex(State())
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// A proxy to the server `connection` is connected to, as that session sees it.
    public static func to(serverOf connection: PostgresConnection, holdLimit: Duration = .seconds(10)) async throws -> TCPProxy {
        let row = try await connection.query(
            """
            SELECT host(inet_server_addr()) AS address, current_setting('port') AS port,
                   current_setting('unix_socket_directories') AS directories
            """
        ).single()
        let port: String = try row.decode("port")
        if let address: String = try row.decodeIfPresent("address") {
            return try TCPProxy(upstream: .tcp(address: address, port: port), holdLimit: holdLimit)
        }
        let directories: String = try row.decode("directories")
        guard let directory = directories.split(separator: ",").first?.trimmingCharacters(in: .whitespaces), directory.hasPrefix("/") else {
            throw TestEnvironmentError("the test server has no Unix socket directory to forward to")
        }
        return try TCPProxy(upstream: .unix(path: "\(directory)/.s.PGSQL.\(port)"), holdLimit: holdLimit)
    }

    init(upstream: Upstream, holdLimit: Duration) throws {
        self.upstream = upstream
        self.holdLimit = holdLimit
        (listener, port) = try LoopbackListener.open()
        Thread.detachNewThread { [self] in
            acceptLoop()
            finished.signal()
        }
    }

    deinit { stop() }

    /// `configuration` reaching its server through this proxy.
    public func route(_ configuration: ConnectionConfiguration) -> ConnectionConfiguration {
        var copy = configuration
        copy.overrides.removeAll { $0.keyword == "host" || $0.keyword == "hostaddr" || $0.keyword == "port" }
        copy.overrides.append((keyword: "host", value: "127.0.0.1"))
        copy.overrides.append((keyword: "port", value: String(port)))
        return copy
    }

    /// New connections are accepted and held unanswered; forwarded sessions keep working.
    public func goSilent() { state.withLock { $0.mode = .silent } }

    /// New connections are held unanswered and forwarded sessions swallow whatever either side
    /// sends: the server is unreachable.
    public func goUnreachable() { state.withLock { $0.mode = .unreachable } }

    /// Closes the held connections (their clients read end of file), cuts the sessions that were
    /// swallowing if the server was unreachable, and forwards new connections again.
    public func speakAgain() {
        let held = state.withLock { state in
            if state.mode == .unreachable { Self.cut(state.forwarding) }
            defer {
                state.mode = .forwarding
                state.held = []
            }
            return state.held.map(\.descriptor)
        }
        held.forEach { Glibc.close($0) }
    }

    /// Ends sessions: each one's pumps see end of file and close its descriptors. Called with the
    /// state locked, so none of them can be closed and its number reused meanwhile.
    private static func cut(_ descriptors: Set<Int32>) {
        descriptors.forEach { shutdown($0, Int32(SHUT_RDWR)) }
    }

    /// Connections accepted so far, forwarded or held.
    public var acceptedCount: Int { state.withLock { $0.accepted } }

    /// Connections accepted while silent or unreachable and not closed yet.
    public var heldCount: Int { state.withLock { $0.held.count } }

    /// Reads (of any size) that forwarded sessions swallowed while the server was unreachable.
    public var swallowedCount: Int { state.withLock { $0.swallowed } }

    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
        Glibc.close(listener)
        speakAgain()
        state.withLock { Self.cut($0.forwarding) }
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .acquiring) {
            releaseExpired()
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let forwarded = state.withLock { state in
                state.accepted += 1
                guard state.mode == .forwarding else {
                    state.held.append((client, .now))
                    return false
                }
                // Known as a session before its pumps start, so going unreachable meanwhile
                // still cuts it when the proxy speaks again.
                state.forwarding.insert(client)
                return true
            }
            if forwarded { forward(client) }
        }
    }

    private func releaseExpired() {
        let expired = state.withLock { state in
            let limit = ContinuousClock.now - holdLimit
            defer { state.held.removeAll { $0.since < limit } }
            return state.held.filter { $0.since < limit }.map(\.descriptor)
        }
        expired.forEach { Glibc.close($0) }
    }

    private func forward(_ client: Int32) {
        guard let server = connectUpstream() else {
            state.withLock { _ = $0.forwarding.remove(client) }
            Glibc.close(client)
            return
        }
        state.withLock { _ = $0.forwarding.insert(server) }
        let pair = Pair(client: client, server: server)
        for (from, to) in [(client, server), (server, client)] {
            Thread.detachNewThread { [self] in
                pump(from: from, to: to)
                // Either direction ending ends the session; the last pump closes both.
                shutdown(pair.client, Int32(SHUT_RDWR))
                shutdown(pair.server, Int32(SHUT_RDWR))
                if pair.remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                    state.withLock { $0.forwarding.subtract([pair.client, pair.server]) }
                    Glibc.close(pair.client)
                    Glibc.close(pair.server)
                }
            }
        }
    }

    private final class Pair: Sendable {
        let client: Int32
        let server: Int32
        let remaining = Atomic<Int>(2)
        init(client: Int32, server: Int32) {
            self.client = client
            self.server = server
        }
    }

    private func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = recv(source, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            let swallow = state.withLock { state in
                guard state.mode == .unreachable else { return false }
                state.swallowed += 1
                return true
            }
            if swallow { continue }
            var offset = 0
            while offset < count {
                let written = buffer[offset..<count].withUnsafeBytes {
                    send(destination, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    private func connectUpstream() -> Int32? {
        switch upstream {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                Glibc.close(fd)
                return nil
            }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard connected == 0 else {
                Glibc.close(fd)
                return nil
            }
            return fd
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_flags = AI_NUMERICHOST
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var found: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, port, &hints, &found) == 0, let info = found else { return nil }
            defer { freeaddrinfo(found) }
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { return nil }
            guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
                Glibc.close(fd)
                return nil
            }
            return fd
        }
    }
}
