import Foundation
import Hummingbird
import Logging
import Mustache
import PostgresClient
import Queue
import Scheduling
import ServiceLifecycle
import Settings

/// The operator dashboard: routes, middleware and what they read. `application(listen:)` is
/// the HTTP server `orchestrator serve` runs; tests drive `router()` directly.
package struct Dashboard: Sendable {
    package let configuration: Configuration
    package let database: DashboardDatabase
    package let token: AccessToken?
    package let logger: Logger
    /// The registered job kinds: the values `/jobs?kind=` accepts.
    package let kinds: [String]
    /// The process's request metrics, added to `/metrics` (nil: not recorded).
    package let requestMetrics: RequestMetrics?
    /// The overview and the database's part of `/metrics`, read at most once per `sharedFor`
    /// however many clients ask (see `CoalescedRead`).
    private let sharedOverview: CoalescedRead<Overview>
    private let sharedMetrics: CoalescedRead<String>
    /// Every list page and its JSON, rendered at most once per `sharedFor` per URL.
    let pages: PageCache
    /// Validates the jobs the actions enqueue, as `orchestrator enqueue` does.
    package let preparer: any JobPreparer

    /// How long the overview and `/metrics` are served again after being read.
    package static let defaultSharedFor = Duration.seconds(1)

    package init(configuration: Configuration, database: DashboardDatabase, token: AccessToken?, kinds: [String], preparer: any JobPreparer, logger: Logger,
                 requestMetrics: RequestMetrics? = nil, sharedFor: Duration = defaultSharedFor) {
        sharedOverview = CoalescedRead(freshFor: sharedFor)
        sharedMetrics = CoalescedRead(freshFor: sharedFor)
        pages = PageCache(freshFor: sharedFor)
        self.configuration = configuration
        self.database = database
        self.token = token
        self.kinds = kinds.sorted()
        self.preparer = preparer
        self.logger = logger
        self.requestMetrics = requestMetrics
    }

    static let overviewTemplate = try! MustacheTemplate(string: OverviewTemplate.text)

    package func router() -> Router<DashboardContext> {
        let router = Router(context: DashboardContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: SecurityHeadersMiddleware())
        if requestMetrics != nil { router.add(middleware: MetricsMiddleware()) }
        router.add(middleware: ReadOnlyMiddleware())
        router.add(middleware: AccessMiddleware(token: token))

        router.get("/healthz") { _, _ in await healthz() }
        router.get("/metrics") { _, _ in
            let text = try await sharedMetrics.value { [configuration, database] in
                await MetricsExposition.render(configuration: configuration, database: database)
            } + (requestMetrics?.text() ?? "")
            return Response(status: .ok, headers: [.contentType: MetricsExposition.contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/") { request, _ in
            try await pages.page(request) {
                let page = OverviewPage(try await loadOverview(), heartbeatSeconds: configuration.worker.heartbeatSeconds)
                return Self.html(Self.overviewTemplate.render(page))
            }
        }
        router.get("/api/overview") { request, _ in try await pages.page(request) { try Self.json(try await loadOverview()) } }
        router.get("/jobs") { request, _ in
            try await pages.page(request) {
                let (query, jobs, now) = try await loadJobs(request)
                let schedules = query.beforeID == nil ? try await loadSchedules(now: now) : nil
                return Self.html(JobsPage.template.render(JobsPage(jobs, query: query, kinds: kinds, schedules: schedules, now: now)))
            }
        }
        router.get("/api/jobs") { request, _ in
            try await pages.page(request) {
                let (query, jobs, _) = try await loadJobs(request)
                return try Self.json(JobList(jobs: jobs, nextBefore: jobs.count == query.limit ? jobs.last?.id : nil))
            }
        }
        router.get("/api/schedules") { request, _ in try await pages.page(request) { try Self.json(try await loadSchedules(now: Date())) } }
        router.get("/jobs/{id}") { _, context in
            guard let detail = try await loadJob(context.parameters.get("id")) else { return Self.notFound("This job") }
            return Self.html(JobDetailPage.template.render(JobDetailPage(detail, formToken: token?.formToken))).response
        }
        router.get("/api/jobs/{id}") { _, context in
            guard let detail = try await loadJob(context.parameters.get("id")) else { throw HTTPError(.notFound, message: "no such job") }
            return try Self.json(detail).response
        }
        router.get("/backups") { request, _ in
            try await pages.page(request) {
                Self.html(BackupsPage.template.render(BackupsPage(try await loadBackups(request), formToken: token?.formToken)))
            }
        }
        router.get("/api/backups") { request, _ in try await pages.page(request) { try Self.json(try await loadBackups(request)) } }
        router.get("/health") { request, _ in
            try await pages.page(request) {
                let (query, view) = try await loadHealth(request)
                guard let series = query.series else { return Self.html(HealthPage.template.render(HealthPage(view))) }
                return Self.html(HealthChartPage.template.render(HealthChartPage(view, series: series)))
            }
        }
        router.get("/api/health") { request, _ in try await pages.page(request) { try Self.json(try await loadHealth(request).1) } }
        router.get("/maintenance") { request, _ in
            try await pages.page(request) { Self.html(MaintenancePage.template.render(MaintenancePage(try await loadMaintenance(request)))) }
        }
        router.get("/api/maintenance") { request, _ in try await pages.page(request) { try Self.json(try await loadMaintenance(request)) } }
        router.get("/alerts") { request, _ in
            try await pages.page(request) {
                let query = try AlertsQuery(request)
                return Self.html(AlertsPage.template.render(AlertsPage(try await loadAlerts(query), query: query)))
            }
        }
        router.get("/api/alerts") { request, _ in try await pages.page(request) { try Self.json(try await loadAlerts(try AlertsQuery(request))) } }
        addActionRoutes(to: router)
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

    /// `/api/jobs`: a page of jobs and the `before` value of the next one (null on the last).
    struct JobList: Encodable {
        let jobs: [JobRecord]
        let nextBefore: Int64?
        enum CodingKeys: String, CodingKey { case jobs, nextBefore = "next_before" }
    }

    private func loadOverview() async throws -> Overview {
        try await sharedOverview.value { [self] in
            try await read("the overview") { connection in try await Overview.load(configuration: configuration, on: connection) }
        }
    }

    /// Parameters are checked (400) before the database is asked anything.
    private func loadJobs(_ request: Request) async throws -> (JobsQuery, [JobRecord], Date) {
        let query = try JobsQuery(request, kinds: kinds)
        let now = Date()
        let jobs = try await read("jobs") { connection in try await JobQueue.list(query.filter(now: now), on: connection) }
        return (query, jobs, now)
    }

    private func loadSchedules(now: Date) async throws -> [ScheduleStatus] {
        try await read("schedules") { connection in try await ScheduleStatus.load(configuration: configuration, on: connection, now: now) }
    }

    /// Nil for an id that is not a positive integer or names no job (both are 404).
    private func loadJob(_ text: String?) async throws -> JobDetailPage.Detail? {
        guard let text, let id = Int64(text), id > 0 else { return nil }
        return try await read("a job") { connection in
            guard let job = try await JobQueue.job(id: id, on: connection) else { return nil }
            return JobDetailPage.Detail(job: job, runs: try await JobQueue.runs(jobID: id, on: connection).reversed(),
                                        actions: try await JobActionRecord.load(jobID: id, on: connection))
        }
    }

    private func loadAlerts(_ query: AlertsQuery) async throws -> AlertsView {
        try await read("alerts") { connection in try await AlertsView.load(query, on: connection) }
    }

    private func loadBackups(_ request: Request) async throws -> BackupCatalogView {
        let limit = try ListLimit.parse(request)
        return try await read("the backup catalog") { connection in
            try await BackupCatalogView.load(configuration: configuration, limit: limit, on: connection)
        }
    }

    private func loadHealth(_ request: Request) async throws -> (HealthQuery, HealthView) {
        let query = try HealthQuery(request)
        let view = try await read("health samples") { connection in
            if let series = query.series {
                return try await HealthView.chart(series, configuration: configuration, on: connection)
            }
            return try await HealthView.list(configuration: configuration, on: connection)
        }
        return (query, view)
    }

    private func loadMaintenance(_ request: Request) async throws -> MaintenanceHistory {
        let limit = try ListLimit.parse(request)
        return try await read("the maintenance history") { connection in
            try await MaintenanceHistory.load(configuration: configuration, limit: limit, on: connection)
        }
    }

    /// The database is read without retrying: a page says at once that it is away.
    private func read<T: Sendable>(_ what: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await database.use(body)
        } catch {
            logger.warning("cannot read \(what)", metadata: ["error": "\(error)"])
            throw HTTPError(.serviceUnavailable, message: "the orchestrator's database cannot be read")
        }
    }

    static func html(_ text: String) -> RenderedPage {
        RenderedPage(contentType: "text/html; charset=utf-8", body: ByteBuffer(string: text))
    }

    static func html(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ value: some Encodable) throws -> RenderedPage {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return RenderedPage(contentType: "application/json", body: ByteBuffer(bytes: try encoder.encode(value)))
    }

    static func notFound(_ what: String) -> Response {
        html(NotFoundPage.template.render(["what": what]), status: .notFound)
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
