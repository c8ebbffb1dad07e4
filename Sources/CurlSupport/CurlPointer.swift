/// A `CURL *`.
///
/// `@unchecked Sendable` because it is only an address: the handle is used solely while holding
/// its owner's lock, by one thread at a time, as libcurl requires.
public struct CurlPointer: @unchecked Sendable, Equatable {
    public let pointer: UnsafeMutableRawPointer
    public init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
}
