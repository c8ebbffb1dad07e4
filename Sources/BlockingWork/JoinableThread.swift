#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thread of its own for one piece of blocking work that runs beside the caller's (the other
/// half of a pipeline), joined by the caller before it returns: nothing of the work outlives
/// the call, and no pooled thread is lent to it. A pooled thread could sit blocked behind work
/// queued in its lane, waiting on a buffer that nobody fills.
package final class JoinableThread {
    private var thread: pthread_t?

    /// Starts `body` at once on a new thread named `name` (as `top -H` shows it; at most 15 bytes).
    package init(name: String, _ body: @escaping @Sendable () -> Void) {
        let start = Unmanaged.passRetained(Start(name: name, body: body))
        #if canImport(Darwin)
        var created: pthread_t?
        #else
        var created = pthread_t()
        #endif
        // On a temporary shortage (EAGAIN) wait a little and try again, as the executor does.
        while pthread_create(&created, nil, joinableThreadEntry, start.toOpaque()) != 0 {
            usleep(10_000)
        }
        thread = created
    }

    /// Waits for the work to return; later calls return at once.
    package func join() {
        guard let thread else { return }
        self.thread = nil
        pthread_join(thread, nil)
    }

    /// A thread is never left running past its owner.
    deinit { join() }
}

private final class Start {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

#if canImport(Darwin)
private func joinableThreadEntry(_ argument: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
    let start = Unmanaged<Start>.fromOpaque(argument).takeRetainedValue()
    pthread_setname_np(start.name)
    start.body()
    return nil
}
#else
private func joinableThreadEntry(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
    _ = setThreadName?(pthread_self(), start.name)
    start.body()
    return nil
}
#endif
