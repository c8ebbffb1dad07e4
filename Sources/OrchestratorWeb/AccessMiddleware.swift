import Hummingbird

/// With a token configured, a request needs `Authorization: Bearer <token>` or the session
/// cookie the login form sets. A browser asking for a page is sent to the form; anything else
/// (scrapers, `/api`) gets 401. The form and its stylesheet are the only open paths.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: AccessToken?

    static var openPaths: Set<String> { [LoginPage.path, Stylesheet.path] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token, !Self.openPaths.contains(request.uri.path) else { return try await next(request, context) }
        if let authorization = request.headers[.authorization] {
            if token.matches(authorization: authorization) {
                return try await next(request, context)
            }
        } else if let cookie = request.cookies[AccessToken.cookieName], token.matches(session: cookie.value) {
            return try await next(request, context)
        }
        if Self.wantsPage(request) {
            return Response(status: .seeOther, headers: [.location: LoginPage.path])
        }
        return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"orchestrator\"", .contentType: "text/plain; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: "unauthorized\n")))
    }

    /// A browser navigating to a page (not a scraper or an API client).
    static func wantsPage(_ request: Request) -> Bool {
        let path = request.uri.path
        guard request.method == .get || request.method == .head, !path.hasPrefix("/api/"), path != "/metrics", path != "/healthz" else { return false }
        return request.headers[.accept]?.contains("text/html") ?? false
    }
}
