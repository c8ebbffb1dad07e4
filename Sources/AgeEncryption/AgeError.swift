/// Why a key, header or payload was refused. The texts name the cause and, where there is one,
/// the fix; none carries key material.
package struct AgeError: Error, Equatable, CustomStringConvertible {
    package let description: String

    init(_ description: String) { self.description = description }

    static let noMatchingIdentity = AgeError("no identity matches any recipient of this file (wrong identity file?)")
    static let headerTampered = AgeError("the header's MAC does not match: the file was altered or the identity is wrong")
    static let payloadTampered = AgeError("a payload chunk failed authentication: the file was altered or truncated")
    static let truncated = AgeError("the file ends before its last chunk: it was truncated")

    /// A file around the stream could not be read or written (the text says which, and why).
    package static func io(_ description: String) -> AgeError { AgeError(description) }
}
