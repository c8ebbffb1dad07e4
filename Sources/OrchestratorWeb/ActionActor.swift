import Foundation
import Hummingbird

/// Who asked for an action, as the audit record and `enqueued_by` name them. Actions always
/// need the token: a bearer header (scripts) or the login cookie plus the form's hidden token
/// from a page of this dashboard (browsers). Without a configured token nothing is allowed,
/// loopback or not.
struct ActionActor: Equatable {
    enum Proof: Equatable { case bearer, session }

    let proof: Proof
    /// The peer's address, when known.
    let client: String?

    /// `web (bearer)` or `web (session)`, and the address it came from.
    var name: String { (proof == .bearer ? "web (bearer)" : "web (session)") + (client.map { " from \($0)" } ?? "") }

    /// The hidden field every action form carries.
    static let formTokenField = "form_token"
    /// An action form holds one short field; anything longer is refused unread.
    static let maximumBody = 4096

    static let noTokenMessage = """
        actions need the dashboard's token, and none is configured: set web.token_env (the name of an environment \
        variable holding it) or web.token_file (a file holding it) in the configuration, at least 16 random characters \
        (e.g. `openssl rand -hex 32`), and restart `orchestrator serve`; then send `Authorization: Bearer <token>` \
        or sign in at /login
        """

    /// Checks the request's proof before anything is read from or written to the database.
    static func authorize(_ request: Request, client: String?, token: AccessToken?) async throws -> ActionActor {
        guard let token else { throw HTTPError(.forbidden, message: noTokenMessage) }
        if let authorization = request.headers[.authorization] {
            guard token.matches(authorization: authorization) else {
                throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"orchestrator\""], message: "the token is not the dashboard's token")
            }
            return ActionActor(proof: .bearer, client: client)
        }
        guard let cookie = request.cookies[AccessToken.cookieName], token.matches(session: cookie.value) else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"orchestrator\""], message: "sign in at /login or send Authorization: Bearer <token>")
        }
        // The cookie is SameSite=Strict, so browsers do not send it from another site; these
        // checks hold for browsers that ignore SameSite too.
        if let site = request.headers[.secFetchSite], site != "same-origin" {
            throw HTTPError(.forbidden, message: "cross-site form posts are refused")
        }
        if let origin = request.headers[.origin], !isSameOrigin(origin, request) {
            throw HTTPError(.forbidden, message: "cross-site form posts are refused")
        }
        let body = try await request.body.collect(upTo: maximumBody)
        guard let candidate = LoginPage.field(formTokenField, in: String(buffer: body)), token.matches(formToken: candidate) else {
            throw HTTPError(.forbidden, message: "the form is not from this dashboard (its form token is missing or wrong); reload the page and try again")
        }
        return ActionActor(proof: .session, client: client)
    }

    /// Whether `Origin` names the host the request was sent to (its `Host`, port included; the
    /// scheme is not known behind a TLS proxy, so either counts).
    static func isSameOrigin(_ origin: String, _ request: Request) -> Bool {
        guard let host = request.head.authority else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }
}
