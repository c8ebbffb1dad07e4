import Foundation
@testable import OrchestratorWeb
import PostgresClient
import Testing
import TestSupport

/// Every page of a running `orchestrator serve`, loaded by headless Chromium at a phone's and a
/// desktop's width (`Tests/Browser/page_check.py` drives it over the DevTools protocol): the page
/// shows the database's figures, escapes hostile text, needs no horizontal scrolling, and the
/// browser reports no console error, exception or Content-Security-Policy violation. The
/// screenshots are kept in `.build/dashboard-screenshots/`.
@Suite("Dashboard in a browser")
struct DashboardBrowserTests {
    static let checker = Harness.repositoryRoot.appendingPathComponent("Tests/Browser/page_check.py").path
    static let screenshots = Harness.repositoryRoot.appendingPathComponent(".build/dashboard-screenshots").path
    static let widths = [375, 1440]

    /// Two pages that break the rules on purpose, so a checker that saw nothing cannot pass.
    static let violatesPolicy = "data:text/html,<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"><style>p{}</style><p>styled</p>"
    static let logsAnError = "data:text/html,<script>console.error('broken page')</script><p>x</p>"

    struct Report: Decodable {
        struct Page: Decodable {
            let url: String
            let width: Int
            let status: Int?
            let text: String
            let scrollWidth: Int
            let viewportWidth: Int
            let scripts: Int
            let navigationVisible: Bool
            let console: [String]
            let exceptions: [String]
            let csp: [String]
            let screenshot: String
        }
        let pages: [Page]
    }

    @Test func everyPageLoadsCleanAtPhoneAndDesktopWidthWithTheDatabaseFigures() async throws {
        try await Harness.with(configuration: DashboardTests.configuration) { harness in
            let connection = try await harness.connect()
            defer { connection.close() }
            try await DashboardFixture.populate(connection)
            let failedJob: Int64 = try await connection.query("SELECT id FROM orchestrator.jobs WHERE state = 'failed'").rows[0].decode("id")

            let server = try await ServeProcess(databaseURL: try harness.database.url)
            defer { server.stop() }
            let chart = "/health?metric=cpu.usage_percent&subject=host&range=24h"
            let paths = PageLayout.links.map(\.path) + ["/jobs/\(failedJob)", chart]
            let report = try runChecker(urls: paths.map { server.base + $0 } + [Self.violatesPolicy, Self.logsAnError])

            #expect(report.pages.count == (paths.count + 2) * Self.widths.count)
            for page in report.pages where !page.url.hasPrefix("data:") {
                let label = "\(page.url) at \(page.width) px"
                #expect(page.status == 200, "\(label)")
                #expect(page.console.isEmpty, "\(label): \(page.console)")
                #expect(page.exceptions.isEmpty, "\(label): \(page.exceptions)")
                #expect(page.csp.isEmpty, "\(label): \(page.csp)")
                #expect(page.scripts == 0, "\(label)")
                #expect(page.viewportWidth == page.width, "\(label)")
                #expect(page.scrollWidth <= page.viewportWidth, "\(label) scrolls sideways: \(page.scrollWidth) px")
                #expect(page.navigationVisible, "\(label): a navigation link is cut off")
                let png = try Data(contentsOf: URL(fileURLWithPath: page.screenshot))
                #expect(png.count > 1000 && png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]), "\(label)")
            }
            func text(_ path: String) throws -> String {
                try #require(report.pages.first { $0.url == server.base + path && $0.width == 1440 }).text
            }
            // Hostile text from the database is shown as text, not run as markup.
            #expect(try text("/jobs").contains(DashboardFixture.hostile))
            #expect(try text("/jobs/\(failedJob)").contains("boom \(DashboardFixture.hostile)"))
            #expect(try text("/").contains("disk \(DashboardFixture.hostile) is full"))
            #expect(try text("/backups").contains("117.7 MiB"))
            #expect(try text("/backups").contains("passed"))
            #expect(try text(chart).contains("97.0 %"))
            #expect(try text("/health").contains("97.0 %"))

            // The checker sees what it is there to see.
            for width in Self.widths {
                let policy = try #require(report.pages.first { $0.url == Self.violatesPolicy && $0.width == width })
                #expect(!policy.csp.isEmpty)
                let error = try #require(report.pages.first { $0.url == Self.logsAnError && $0.width == width })
                #expect(error.console == ["broken page"])
            }
        }
    }

    private func runChecker(urls: [String]) throws -> Report {
        try? FileManager.default.removeItem(atPath: Self.screenshots)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("page-check-\(UUID().uuidString).json")
        guard FileManager.default.createFile(atPath: output.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Self.checker, "--out", Self.screenshots, "--widths", Self.widths.map(String.init).joined(separator: ",")] + urls
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.standardError
        try process.run()
        // Polled rather than waitUntilExit, which spins a run loop off the main thread.
        let deadline = Date().addingTimeInterval(180)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { process.terminate() }
        #expect(process.terminationStatus == 0, "page_check.py failed (is chromium installed? scripts/test installs it)")
        return try JSONDecoder().decode(Report.self, from: Data(contentsOf: output))
    }
}

/// `orchestrator serve` on a free loopback port over a test database, with the dashboard tests'
/// backup profile.
final class ServeProcess: Sendable {
    let base: String
    private let process: Process
    private let directory: URL

    init(databaseURL: String) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("orchestrator.yaml")
        try "backups:\n  profiles:\n    daily:\n      paths: [/srv/app]\n".write(to: config, atomically: true, encoding: .utf8)
        let port = try LoopbackPort.free()
        base = "http://127.0.0.1:\(port)"
        process = Process()
        process.executableURL = Harness.binary
        process.arguments = ["serve", "--config", config.path, "--listen", "127.0.0.1:\(port)"]
        process.environment = ProcessInfo.processInfo.environment.merging(["ORCHESTRATOR_DATABASE_URL": databaseURL]) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.standardError
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while !LoopbackPort.accepts(port) {
            guard Date() < deadline, process.isRunning else {
                stop()
                throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "orchestrator serve did not start listening on \(port)"])
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func stop() {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }
}
