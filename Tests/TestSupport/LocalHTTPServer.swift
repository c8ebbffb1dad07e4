import Foundation
import Synchronization

/// A tiny HTTP/1.1 server on 127.0.0.1 that records every request and answers from a script
/// (the last answer repeats), one connection per request.
public final class LocalHTTPServer: Sendable {
    public struct Request: Sendable {
        public let method: String
        public let path: String
        /// Header names lower-cased; a repeated header keeps its last value.
        public let headers: [String: String]
        public let body: [UInt8]

        public var bodyText: String { String(decoding: body, as: UTF8.self) }

        /// The body parsed as a JSON object.
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String
        /// Answer with the request line and the decoded query in the body, as careless servers
        /// do in their error pages (`Cannot POST /hook/<token>?token=<token>`).
        public var echoesRequest = false

        public init(status: Int = 200, headers: [String: String] = [:], body: String = "") {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public static func echo(_ status: Int) -> Response {
            var response = Response(status: status)
            response.echoesRequest = true
            return response
        }

        public static func json(_ status: Int, _ body: String, headers: [String: String] = [:]) -> Response {
            Response(status: status, headers: headers.merging(["Content-Type": "application/json"]) { old, _ in old }, body: body)
        }
    }

    private struct State: Sendable {
        var script: [Response]
        var requests: [Request] = []
    }

    private let state: Locked<State>
    private let server: Mutex<LocalSocketServer?> = Mutex(nil)
    public let port: Int

    public init(responses: [Response] = [Response(status: 200, body: "ok")]) throws {
        let state = Locked(State(script: responses))
        let socketServer = try LocalSocketServer { connection in
            guard let request = Self.read(connection) else { return }
            var response = state.withLock { state -> Response in
                state.requests.append(request)
                return state.script.count > 1 ? state.script.removeFirst() : state.script.first ?? Response()
            }
            if response.echoesRequest { response.body = Self.echo(request) }
            Self.write(response, to: connection)
        }
        self.state = state
        self.port = socketServer.port
        server.withLock { $0 = socketServer }
    }

    deinit { stop() }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public var requests: [Request] { state.withLock { $0.requests } }

    public func stop() {
        let running = server.withLock { server -> LocalSocketServer? in
            defer { server = nil }
            return server
        }
        running?.stop()
    }

    private static func read(_ connection: SocketConnection) -> Request? {
        guard let requestLine = connection.readLine() else { return nil }
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3 else { return nil }
        var headers: [String: String] = [:]
        while let line = connection.readLine(), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard let body = connection.read(count: length) else { return nil }
        return Request(method: String(parts[0]), path: String(parts[1]), headers: headers, body: body)
    }

    /// `Cannot POST /path?query (name=decoded value, ...)`.
    private static func echo(_ request: Request) -> String {
        let items = URLComponents(string: request.path)?.queryItems ?? []
        let decoded = items.map { "\($0.name)=\($0.value ?? "")" }.joined(separator: ", ")
        return "Cannot \(request.method) \(request.path)" + (decoded.isEmpty ? "" : " (\(decoded))")
    }

    private static func write(_ response: Response, to connection: SocketConnection) {
        let body = Array(response.body.utf8)
        var text = "HTTP/1.1 \(response.status) \(reason(response.status))\r\n"
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        text += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        connection.write(text + response.body)
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}
