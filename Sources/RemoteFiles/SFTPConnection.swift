import CurlSupport
import Synchronization

/// A session's SSH connection: set up on the first call, kept between calls, and set up again
/// after one broke (a cancelled transfer leaves replies unread, so its connection goes).
///
/// `withChannel` blocks; `SFTPSession` calls it only from its serial queue, one call at a time.
final class SFTPConnection: Sendable {
    let endpoint: SFTPEndpoint
    private let state = Mutex<State>(State())

    private struct State: ~Copyable {
        var command: SSHCommand?
        var channel: SFTPChannel?
        var closed = false
    }

    init(endpoint: SFTPEndpoint) {
        self.endpoint = endpoint
    }

    /// Ends the SSH session and removes its private files.
    func close() {
        state.withLock { state in
            state.closed = true
            state.channel?.close()
            state.channel = nil
            state.command = nil
        }
    }

    /// Runs `work` on the session's channel, connecting first when there is none.
    func withChannel<T>(cancellation: CancellationFlag, _ work: (SFTPChannel) throws(SFTPFailure) -> T) throws(SFTPFailure) -> T {
        let channel = try channel(cancellation: cancellation)
        do throws(SFTPFailure) {
            let result = try work(channel)
            if channel.isBroken { drop(channel) }
            return result
        } catch {
            if channel.isBroken { drop(channel) }
            throw error
        }
    }

    private func channel(cancellation: CancellationFlag) throws(SFTPFailure) -> SFTPChannel {
        let existing = state.withLock { state -> Result<SFTPChannel?, SFTPFailure> in
            state.closed ? .failure(.closed) : .success(state.channel)
        }
        if let channel = try existing.get() {
            // Between calls nothing is asked, so anything to read (an end of file, say, after
            // the server restarted) means the connection is gone: start a new one for this call.
            guard channel.hasUnaskedInput else { return channel }
            drop(channel)
        }
        // Set up outside the lock: `close` must never wait for a connection to be made.
        let command = try SSHCommand(endpoint: endpoint, cancellation: cancellation)
        // Connecting and logging in may take the connect timeout; after that, the stall timeout.
        let ssh = try SSHProcess(ssh: command.executable, arguments: command.arguments, environment: command.environment, stallTimeout: endpoint.connectTimeout + endpoint.stallTimeout)
        let channel: SFTPChannel
        do throws(SFTPFailure) {
            channel = try SFTPChannel(ssh: ssh, cancellation: cancellation)
        } catch {
            ssh.end()
            throw error
        }
        ssh.stallTimeout = endpoint.stallTimeout
        let kept = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.command = command
            state.channel = channel
            return true
        }
        guard kept else {
            channel.close()
            throw .closed
        }
        return channel
    }

    private func drop(_ channel: SFTPChannel) {
        channel.close()
        state.withLock { state in
            if state.channel === channel {
                state.channel = nil
                state.command = nil
            }
        }
    }
}
