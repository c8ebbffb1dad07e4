import Crypto
import Foundation

/// The dashboard's bearer token and the session cookie derived from it. The cookie holds an
/// HMAC of the token, not the token, so a copied cookie does not reveal what `/metrics`
/// scrapers use; both comparisons take the same time whatever the guess.
package struct AccessToken: Sendable {
    package static let cookieName = "orchestrator_session"

    private let tokenDigest: [UInt8]
    /// The session cookie's value (hex).
    package let sessionValue: String
    /// The hidden field of the action forms (hex), derived from the session value: another
    /// site can make a browser send the cookie with a form post, but cannot read this.
    package let formToken: String

    package init(_ token: String) {
        tokenDigest = Array(SHA256.hash(data: Data(token.utf8)))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("orchestrator dashboard session".utf8), using: SymmetricKey(data: Data(token.utf8)))
        sessionValue = mac.map { String(format: "%02x", $0) }.joined()
        let form = HMAC<SHA256>.authenticationCode(for: Data("orchestrator dashboard action form".utf8), using: SymmetricKey(data: Data(sessionValue.utf8)))
        formToken = form.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `candidate` is the token. Both sides are hashed first, so the comparison is over
    /// equal lengths and leaks neither the token's length nor a matching prefix.
    package func matches(token candidate: String) -> Bool {
        Self.equal(Array(SHA256.hash(data: Data(candidate.utf8))), tokenDigest)
    }

    /// Whether an `Authorization` header is `Bearer <the token>` (the scheme in any case).
    package func matches(authorization header: String) -> Bool {
        let scheme = "Bearer "
        return header.count > scheme.count && header.prefix(scheme.count).lowercased() == scheme.lowercased()
            && matches(token: String(header.dropFirst(scheme.count)))
    }

    package func matches(session candidate: String) -> Bool {
        Self.equal(Array(candidate.utf8), Array(sessionValue.utf8))
    }

    package func matches(formToken candidate: String) -> Bool {
        Self.equal(Array(candidate.utf8), Array(formToken.utf8))
    }

    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
