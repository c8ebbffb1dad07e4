import CArchive

/// `sync_file_range` (Linux): writes a range of a file's dirty pages to disk without the
/// metadata flush of `fsync`, to push big files out while they are written instead of in one
/// burst at the end. Errors are not reported: the caller's final `fsync`/`syncfs` is what makes
/// the data durable; this only spreads the writing.
public enum FileWriteback {
    private static let waitBefore: UInt32 = 1, write: UInt32 = 2, waitAfter: UInt32 = 4

    /// Starts writing `count` bytes from `offset` out; does not wait.
    public static func start(_ descriptor: Int32, offset: Int64, count: Int64) {
        guard count > 0 else { return }
        _ = sync_file_range(descriptor, off_t(offset), off_t(count), write)
    }

    /// Writes `count` bytes from `offset` out and waits for them. Blocking.
    public static func flush(_ descriptor: Int32, offset: Int64, count: Int64) {
        guard count > 0 else { return }
        _ = sync_file_range(descriptor, off_t(offset), off_t(count), waitBefore | write | waitAfter)
    }
}
