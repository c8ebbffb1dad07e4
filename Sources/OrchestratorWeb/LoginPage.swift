import Foundation
import Hummingbird
import Mustache

/// `GET /login` shows a one-field form; `POST /login` with the right token sets the session
/// cookie (HttpOnly, SameSite=Strict: never sent by another site's request) and goes to `/`.
enum LoginPage {
    static let path = "/login"
    /// The form's body is one short field; anything longer is refused unread.
    static let maximumBody = 4096

    static let template = try! MustacheTemplate(string: """
    <!doctype html>
    <html lang="en">
    <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>orchestrator · sign in</title><link rel="stylesheet" href="/static/style.css"></head>
    <body>
    <form class="login" method="post" action="/login">
    <h1>orchestrator</h1>
    {{#failed}}<p class="error">That token is not the dashboard's token.</p>{{/failed}}
    <label for="token">Token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <button type="submit">Sign in</button>
    </form>
    </body>
    </html>
    """)

    static func form(failed: Bool) -> Response {
        Response(status: failed ? .unauthorized : .ok, headers: [.contentType: "text/html; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: template.render(["failed": failed]))))
    }

    static func submit(_ request: Request, context: some RequestContext, token: AccessToken?) async throws -> Response {
        guard let token else { return Response(status: .seeOther, headers: [.location: "/"]) }
        let body = try await request.body.collect(upTo: maximumBody)
        let candidate = field("token", in: String(buffer: body))
        guard let candidate, token.matches(token: candidate) else {
            // Slows guessing through the form; the token's length makes guessing hopeless anyway.
            try await Task.sleep(for: .milliseconds(500))
            return form(failed: true)
        }
        var response = Response(status: .seeOther, headers: [.location: "/"])
        response.setCookie(Cookie(name: AccessToken.cookieName, value: token.sessionValue, maxAge: 12 * 3600, path: "/",
                                  httpOnly: true, sameSite: .strict))
        return response
    }

    /// A field of an `application/x-www-form-urlencoded` body.
    static func field(_ name: String, in body: String) -> String? {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }
}
