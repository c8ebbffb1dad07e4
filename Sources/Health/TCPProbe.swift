import Foundation
import Settings
import Support

/// Opens a TCP connection with a timeout (non-blocking connect + poll), trying each address the
/// name resolves to. Blocking (getaddrinfo, then up to the timeout in poll): call it through
/// `Blocking.run`, which bounds how many probes block threads at once (the jobs lane).
enum TCPProbe {
    static func sample(_ name: String, _ check: TCPCheck) -> [HealthSample] {
        let details: [String: JSONValue] = ["host": .string(check.host), "port": .int(Int64(check.port))]
        switch measure(host: check.host, port: check.port, timeoutMs: check.timeoutMs) {
        case .success(let milliseconds):
            return [
                HealthSample(.service, name, "tcp.up", value: 1, unit: "boolean", details: details),
                HealthSample(.service, name, "tcp.connect_ms", value: milliseconds, unit: "milliseconds"),
            ]
        case .failure(let reason):
            return [HealthSample(.service, name, "tcp.up", value: 0, unit: "boolean", status: .failed, message: reason.description, details: details)]
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Milliseconds until the connection was established, or why it was not.
    static func measure(host: String, port: Int, timeoutMs: Int) -> Result<Double, Failure> {
        let started = ContinuousClock.now
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            return .failure(Failure(description: "cannot resolve \(host): \(String(cString: gai_strerror(resolved)))"))
        }
        defer { freeaddrinfo(first) }
        var lastError = "no address for \(host)"
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let address = cursor {
            cursor = address.pointee.ai_next
            let remaining = timeoutMs - Int((ContinuousClock.now - started).seconds * 1000)
            guard remaining > 0 else { return .failure(Failure(description: "timed out after \(timeoutMs) ms")) }
            // Close-on-exec: a tool spawned meanwhile (pg_dump) must not inherit the socket.
            #if canImport(Glibc)
            let type = address.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue)
            #else
            let type = address.pointee.ai_socktype
            #endif
            let descriptor = socket(address.pointee.ai_family, type, address.pointee.ai_protocol)
            guard descriptor >= 0 else {
                lastError = "cannot create a socket: \(String(cString: strerror(errno)))"
                continue
            }
            defer { close(descriptor) }
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            if connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 {
                return .success((ContinuousClock.now - started).seconds * 1000)
            }
            guard errno == EINPROGRESS else {
                lastError = "\(host):\(port): \(String(cString: strerror(errno)))"
                continue
            }
            var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&poller, 1, Int32(remaining))
            guard ready > 0 else {
                lastError = ready == 0 ? "timed out after \(timeoutMs) ms" : "\(host):\(port): \(String(cString: strerror(errno)))"
                continue
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 { return .success((ContinuousClock.now - started).seconds * 1000) }
            lastError = "\(host):\(port): \(String(cString: strerror(error)))"
        }
        return .failure(Failure(description: lastError))
    }
}
