import BlockingWork

/// Runs blocking archive work (libarchive, file hashing, directory walks) in the jobs lane of a
/// `BlockingExecutor`, never on Swift's cooperative pool.
public enum Archiver {
    public static func run<T: Sendable>(on executor: BlockingExecutor = .shared, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await executor.run(.jobs, work)
    }
}
