import BlockingWork
import Foundation

extension ChildProcess {
    /// Runs a tool and hands its standard output to `read` as it is written, in constant memory
    /// (`pg_restore --file=-` streaming a whole dump). `read` runs on a thread of the executor's
    /// jobs lane and pulls the output through `ChildOutput`; standard error is drained meanwhile,
    /// so a tool that writes much of both never blocks. Output `read` leaves unread is drained
    /// and discarded. When the tool fails, its `Failure` is thrown (it says why the output
    /// stopped); otherwise an error `read` threw; otherwise `read`'s result.
    package static func run<Result: Sendable>(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        inheriting: [Int32] = [], priority: ProcessPriority = .normal, killGrace: Duration = .seconds(5),
        executor: BlockingExecutor = .shared,
        readingOutput read: @escaping @Sendable (ChildOutput) throws -> Result
    ) async throws -> Result {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        // The worker's end must not leak into other children (they close from 3 up anyway).
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        let child: RunningChild
        do {
            child = try spawn(
                executable, arguments, environment: environment, standardOutput: .pipe(ends[1]), inheriting: inheriting,
                priority: priority, executor: executor
            )
        } catch {
            close(ends[0])
            throw error
        }
        let readEnd = ends[0]
        let (outcome, result): (Outcome, Swift.Result<Result, any Error>) = await withTaskCancellationHandler {
            await executor.run(.jobs) {
                let output = ChildOutput(child: child, descriptor: readEnd)
                let result = Swift.Result { try read(output) }
                return (output.finish(), result)
            }
        } onCancel: {
            child.terminate(grace: killGrace)
        }
        try Task.checkCancellation()
        guard outcome.succeeded else {
            throw Failure(tool: URL(fileURLWithPath: executable).lastPathComponent, outcome: outcome)
        }
        return try result.get()
    }
}

/// A running tool's standard output, read on one thread (the one `ChildProcess.run(readingOutput:)`
/// calls its reader on), while its standard error is kept as the bounded tail.
package final class ChildOutput {
    private let child: RunningChild
    private let descriptor: Int32
    private var outputOpen = true
    private var errorOpen = true
    private var tail: [UInt8] = []
    private var errorBuffer = [UInt8](repeating: 0, count: 4096)

    init(child: RunningChild, descriptor: Int32) {
        self.child = child
        self.descriptor = descriptor
    }

    /// Reads the next bytes of output into `buffer`; 0 at the end of the output.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while outputOpen {
            var fds = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
            if errorOpen { fds.append(pollfd(fd: child.errorDescriptor, events: Int16(POLLIN), revents: 0)) }
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 else {
                if errno == EINTR { continue }
                throw POSIXError(.init(rawValue: errno) ?? .EIO)
            }
            if fds.count > 1, fds[1].revents != 0 {
                errorOpen = child.readError(into: &errorBuffer, tail: &tail)
            }
            guard fds[0].revents != 0 else { continue }
            let count = Foundation.read(descriptor, buffer.baseAddress, buffer.count)
            if count > 0 { return count }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            outputOpen = false
        }
        return 0
    }

    /// Calls `body` with each chunk of output until its end.
    package func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try read(into: buffer)
            if count == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    /// Drains what is left of both streams, then waits for the tool.
    fileprivate func finish() -> ChildProcess.Outcome {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { scratch.deallocate() }
        while outputOpen {
            if (try? read(into: scratch)) == nil { break }
        }
        close(descriptor)
        while errorOpen { errorOpen = child.readError(into: &errorBuffer, tail: &tail) }
        return child.reap(tail: tail)
    }
}
