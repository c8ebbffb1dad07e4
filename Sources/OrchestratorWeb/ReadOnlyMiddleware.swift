import Hummingbird

/// The dashboard is read-only: GET and HEAD, and POST only to the login form. Anything else is
/// refused before authentication or routing looks at it.
struct ReadOnlyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch request.method {
        case .get, .head: break
        case .post where request.uri.path == LoginPage.path: break
        default:
            return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD", .contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "method not allowed\n")))
        }
        return try await next(request, context)
    }
}
