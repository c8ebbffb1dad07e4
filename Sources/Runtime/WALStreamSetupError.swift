/// A problem that keeps the worker from streaming WAL, with its fix (a missing tool).
struct WALStreamSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
