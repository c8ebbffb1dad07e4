import Queue

/// A kind's typed arguments. Each argument is declared once, as a static `JobArgument` (name, range,
/// default, meaning), listed in `specs`, and read in `init`. Rules across arguments (two that
/// exclude each other) belong in `init` too: it runs when the job is enqueued and again, on the
/// stored JSON, when it runs.
package protocol JobArguments: Sendable {
    /// Every argument the kind accepts, in the order `orchestrator kinds` lists them.
    static var specs: [ArgumentSpec] { get }

    init(_ values: ArgumentValues) throws(JobValidationError)
}

/// The arguments of a kind that takes none.
package struct NoArguments: JobArguments, Equatable {
    package static let specs: [ArgumentSpec] = []

    package init() {}
    package init(_ values: ArgumentValues) {}
}
