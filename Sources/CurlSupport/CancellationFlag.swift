import Synchronization

/// Raised from any task to stop a running transfer; libcurl's progress callback reads it.
public final class CancellationFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    public init() {}
    public func raise() { raised.store(true, ordering: .relaxed) }
    public var isRaised: Bool { raised.load(ordering: .relaxed) }
}
