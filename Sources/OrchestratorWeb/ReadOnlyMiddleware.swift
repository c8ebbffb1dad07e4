import Hummingbird

/// The dashboard reads: GET and HEAD everywhere, POST only to the login form and to the
/// token-protected actions (`Dashboard.ActionPath`), which authorize themselves. Anything else
/// is refused before authentication or routing looks at it.
struct ReadOnlyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let isAction = Dashboard.ActionPath.matches(request.uri.path)
        let allowed: Bool
        switch request.method {
        case .get, .head: allowed = !isAction
        case .post: allowed = isAction || request.uri.path == LoginPage.path
        default: allowed = false
        }
        if !allowed {
            return Response(status: .methodNotAllowed, headers: [.allow: isAction ? "POST" : "GET, HEAD", .contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "method not allowed\n")))
        }
        return try await next(request, context)
    }
}
