import CurlSupport
import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// OpenSSH's `ssh` running the server's `sftp` subsystem, as `sftp` itself runs it: the SFTP
/// packets go to its standard input and come back on its standard output, and OpenSSH does the
/// transport (key exchange, ciphers, host key check, login). Its CPU cost per byte is about
/// half of libssh2's, and it is the SSH client operators already trust and patch.
///
/// All I/O is blocking with `poll`, on the one thread of the session's serial queue. Every wait
/// wakes at least once a second to see the cancellation flag, and gives up after the endpoint's
/// stall timeout without progress. Standard error is drained while waiting, into a bounded tail
/// that says why ssh ended.
/// Unchecked Sendable: like `SFTPChannel`, used by one call at a time.
final class SSHProcess: @unchecked Sendable {
    private let child: RunningChild
    /// Our end of the socket pair that is the child's standard input and output. A socket, not
    /// pipes (as `sftp` does it): `send` with MSG_NOSIGNAL fails with EPIPE when ssh is gone,
    /// where a write to a pipe would raise SIGPIPE and end the worker.
    private var socket: Int32
    private var errorOpen = true
    /// The bounded tail of ssh's standard error (`RunningChild.readError` keeps it).
    private var errorTail: [UInt8] = []
    private var errorBuffer = [UInt8](repeating: 0, count: 4096)
    /// How long a wait may see no progress; the connection lowers it to the endpoint's stall
    /// timeout once the session is set up (connecting may take longer).
    var stallTimeout: Duration
    private var ended = false

    /// Starts `ssh` with `arguments` (see `SSHCommand`); `environment` is added to the worker's.
    init(ssh: String, arguments: [String], environment: [String: String], stallTimeout: Duration) throws(SFTPFailure) {
        var ends: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else { throw .localPipe(errno) }
        do {
            // The child's end loses close-on-exec when it is made its standard input and output.
            child = try ChildProcess.start(ssh, arguments, environment: environment, standardInput: ends[1], standardOutput: ends[1])
        } catch {
            close(ends[0])
            throw .sshDidNotStart(String(describing: error))
        }
        socket = ends[0]
        // A send must never block past a poll: a server that stops reading is a stall.
        _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
        self.stallTimeout = stallTimeout
    }

    deinit { end() }

    /// Sends `head` and then `body` whole, in one system call when the socket takes it all: a
    /// WRITE's header and data reach ssh together.
    func send(_ head: [UInt8], _ body: UnsafeRawBufferPointer? = nil, cancellation: CancellationFlag) throws(SFTPFailure) {
        let bodyCount = body?.count ?? 0
        let total = head.count + bodyCount
        var offset = 0
        while offset < total {
            let written = head.withUnsafeBytes { head -> Int in
                var parts: [iovec] = []
                if offset < head.count {
                    parts.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: head.baseAddress! + offset), iov_len: head.count - offset))
                }
                if let body, bodyCount > 0 {
                    let skip = max(0, offset - head.count)
                    parts.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress! + skip), iov_len: bodyCount - skip))
                }
                return parts.withUnsafeMutableBufferPointer { parts in
                    var message = msghdr()
                    message.msg_iov = parts.baseAddress
                    message.msg_iovlen = parts.count
                    return Glibc.sendmsg(socket, &message, Int32(MSG_NOSIGNAL))
                }
            }
            if written > 0 {
                offset += written
                continue
            }
            if written < 0 && errno == EINTR { continue }
            guard written < 0 && errno == EAGAIN else { throw connectionEnded() }
            try wait(for: socket, events: Int16(POLLOUT), cancellation: cancellation)
        }
    }

    /// Reads what is there (at least one byte) into `buffer`; the connection's end is a failure.
    func receive(into buffer: UnsafeMutableRawBufferPointer, cancellation: CancellationFlag) throws(SFTPFailure) -> Int {
        while true {
            try wait(for: socket, events: Int16(POLLIN), cancellation: cancellation)
            let count = read(socket, buffer.baseAddress!, buffer.count)
            if count > 0 { return count }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            throw connectionEnded()
        }
    }

    /// Whether the child's output can be read without waiting (or it has ended).
    var hasInput: Bool {
        var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0)]
        return poll(&fds, 1, 0) > 0
    }

    /// Waits until `descriptor` is ready, draining standard error meanwhile.
    private func wait(for descriptor: Int32, events: Int16, cancellation: CancellationFlag) throws(SFTPFailure) {
        let deadline = ContinuousClock.now + stallTimeout
        while true {
            if cancellation.isRaised { throw .cancelled }
            var fds = [pollfd(fd: descriptor, events: events, revents: 0)]
            if errorOpen { fds.append(pollfd(fd: child.errorDescriptor, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), 1000)
            if ready < 0 && errno != EINTR { throw connectionEnded() }
            if fds.count > 1 && fds[1].revents != 0 { drainError() }
            if fds[0].revents != 0 { return }
            if ContinuousClock.now >= deadline { throw .stalled }
        }
    }

    private func drainError() {
        if !child.readError(into: &errorBuffer, tail: &errorTail) { errorOpen = false }
    }

    /// ssh went away: waits for it and says why, from its standard error.
    private func connectionEnded() -> SFTPFailure {
        // What it printed last may still be in the pipe; a few seconds at most.
        let deadline = ContinuousClock.now + .seconds(3)
        while errorOpen && !ended && ContinuousClock.now < deadline {
            var fds = [pollfd(fd: child.errorDescriptor, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 1, 1000) > 0 else { break }
            drainError()
        }
        let outcome = reap()
        return .sshEnded(exitStatus: outcome?.exitStatus, stderr: outcome?.stderrTail ?? "")
    }

    private func reap() -> ChildProcess.Outcome? {
        guard !ended else { return nil }
        ended = true
        close(socket)
        socket = -1
        errorOpen = false
        child.terminate(grace: .seconds(2))
        return child.reap(tail: errorTail)
    }

    /// For a tool that prints and exits (`ssh-keyscan`): its standard output up to `limit`
    /// bytes, and its standard error.
    func readToEnd(limit: Int, cancellation: CancellationFlag) throws(SFTPFailure) -> (output: [UInt8], stderr: String) {
        var collected: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count: Int
            do throws(SFTPFailure) {
                count = try chunk.withMutableBytes { buffer throws(SFTPFailure) in try receive(into: buffer, cancellation: cancellation) }
            } catch {
                if case .sshEnded(_, let stderr) = error { return (collected, stderr) }
                throw error
            }
            collected.append(contentsOf: chunk[0..<count])
            guard collected.count <= limit else {
                end()
                throw .protocolViolation("ssh-keyscan printed more than \(limit) bytes")
            }
        }
    }

    /// Closes the socket (ssh ends the session when its input closes), then stops and reaps it.
    func end() { _ = reap() }
}
