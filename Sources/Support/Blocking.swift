import BlockingWork

/// Runs blocking system calls (file reads under /proc and /sys, statvfs on a possibly hung
/// mount, connect, getaddrinfo) in the jobs lane of the shared `BlockingExecutor`, never on
/// Swift's cooperative pool.
package enum Blocking {
    package static func run<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        try await BlockingExecutor.shared.run(.jobs, work)
    }
}
