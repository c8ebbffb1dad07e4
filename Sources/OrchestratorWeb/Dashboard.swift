import Foundation
import Hummingbird
import Logging
import Mustache
import ServiceLifecycle
import Settings

/// The operator dashboard: routes, middleware and what they read. `application(listen:)` is
/// the HTTP server `orchestrator serve` runs; tests drive `router()` directly.
package struct Dashboard: Sendable {
    package let configuration: Configuration
    package let database: DashboardDatabase
    package let token: AccessToken?
    package let logger: Logger

    package init(configuration: Configuration, database: DashboardDatabase, token: AccessToken?, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.token = token
        self.logger = logger
    }

    static let overviewTemplate = try! MustacheTemplate(string: OverviewTemplate.text)

    package func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: ReadOnlyMiddleware())
        router.add(middleware: AccessMiddleware(token: token))

        router.get("/healthz") { _, _ in await healthz() }
        router.get("/metrics") { _, _ in
            let text = await MetricsExposition.render(configuration: configuration, database: database)
            return Response(status: .ok, headers: [.contentType: MetricsExposition.contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/") { _, _ in
            let overview = try await loadOverview()
            let page = OverviewPage(overview, heartbeatSeconds: configuration.worker.heartbeatSeconds)
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: Self.overviewTemplate.render(page))))
        }
        router.get("/api/overview") { _, _ in
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(try await loadOverview())
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get(RouterPath(Stylesheet.path)) { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: Stylesheet.text)))
        }
        router.get(RouterPath(LoginPage.path)) { _, _ in LoginPage.form(failed: false) }
        router.post(RouterPath(LoginPage.path)) { request, context in try await LoginPage.submit(request, context: context, token: token) }
        return router
    }

    /// The HTTP server, to run in a `ServiceGroup` (graceful shutdown on its signals).
    package func service(listen: ListenAddress) -> any Service {
        Application(
            router: router(),
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: nil),
            logger: logger
        )
    }

    /// The database is read without retrying: a page says at once that it is away.
    private func loadOverview() async throws -> Overview {
        do {
            return try await database.use { connection in try await Overview.load(configuration: configuration, on: connection) }
        } catch {
            logger.warning("cannot read the overview", metadata: ["error": "\(error)"])
            throw HTTPError(.serviceUnavailable, message: "the orchestrator's database cannot be read")
        }
    }

    private func healthz() async -> Response {
        let reachable: Bool
        do {
            try await database.use { connection in try await connection.execute("SELECT 1") }
            reachable = true
        } catch {
            reachable = false
        }
        let body = reachable ? #"{"status":"ok","database":"ok"}"# : #"{"status":"unavailable","database":"unreachable"}"#
        return Response(status: reachable ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: body + "\n")))
    }
}
