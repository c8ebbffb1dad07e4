/// A failure reading or writing an archive, naming the archive (and entry) involved.
public struct ArchiveError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case io
        case corrupt
        case unsafeEntry
        case unsupported
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
