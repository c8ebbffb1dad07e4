import ArgumentParser
import Foundation
import Kinds
import OrchestratorWeb
import Runtime
import ServiceLifecycle
import Settings

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the dashboard (/, /api/overview, /metrics, /healthz) until SIGTERM or SIGINT.",
        discussion: """
            Listens on web.listen (default 127.0.0.1:8089). With web.token_env or web.token_file every request needs \
            `Authorization: Bearer <token>` or the cookie the login form sets; without a token only a loopback address \
            may be used. Pages only read; the actions (retry or cancel a job, enqueue a backup or a drill) always need \
            the token, even on loopback, and are recorded in orchestrator.web_actions.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "host:port to listen on instead of web.listen (the token rule applies to it too).")
    var listen: String?

    func run() async throws {
        let environment = try global.environment()
        let web = environment.configuration.web
        let text = listen ?? web.listen
        let address: ListenAddress
        let token: String?
        do {
            if let problem = web.accessProblem(listen: text, path: listen == nil ? "web.listen" : "--listen") { throw problem }
            guard let parsed = ListenAddress(parsing: text) else { throw ConfigurationError(path: "web.listen", "not host:port") }
            address = parsed
            token = try web.resolveToken(environment: ProcessInfo.processInfo.environment)
        } catch let error as ConfigurationError {
            printError("\(error)")
            throw ExitCodes.configuration
        }
        let database = DashboardDatabase(connector: environment.connector)
        defer { database.close() }
        let requestMetrics = RequestMetrics()
        requestMetrics.bootstrap()
        let dashboard = Dashboard(configuration: environment.configuration, database: database, token: token.map(AccessToken.init),
                                  kinds: JobKindRegistry.standard.names, preparer: JobKindRegistry.standard, logger: environment.logger,
                                  requestMetrics: requestMetrics)
        environment.logger.notice("dashboard listening", metadata: ["http.listen": "\(address)", "http.token": "\(token == nil ? "none" : "required")"])
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: dashboard.service(listen: address))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [.sigquit],
            logger: environment.logger
        ))
        try await reportingErrors { try await group.run() }
    }
}
