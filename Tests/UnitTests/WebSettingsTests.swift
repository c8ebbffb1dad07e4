@testable import Settings
import Testing

@Suite("Web settings")
struct WebSettingsTests {
    @Test func listenAddressesParseAndKnowLoopback() {
        #expect(ListenAddress(parsing: "127.0.0.1:8089") == ListenAddress(host: "127.0.0.1", port: 8089))
        #expect(ListenAddress(parsing: "[::1]:9000") == ListenAddress(host: "::1", port: 9000))
        #expect(ListenAddress(parsing: "localhost:1")?.isLoopback == true)
        #expect(ListenAddress(parsing: "127.8.9.10:80")?.isLoopback == true)
        #expect(ListenAddress(parsing: "0.0.0.0:8089")?.isLoopback == false)
        #expect(ListenAddress(parsing: "[::]:8089")?.isLoopback == false)
        #expect(ListenAddress(parsing: "127.0.0.1.evil.example:80")?.isLoopback == false)
        for bad in ["8089", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", ":8089", "::1:8089", "[::1]8089", "a b:80", "host:80x", "127.0.0.1:+80"] {
            #expect(ListenAddress(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func bindingBeyondLoopbackWithoutATokenIsRefusedWithTheFix() throws {
        let open = try Configuration.parse(yaml: "web: {listen: \"0.0.0.0:8089\"}")
        let problem = try #require(open.validate().first { $0.path == "web.listen" })
        #expect(problem.message.contains("web.token_env or web.token_file"))
        #expect(problem.message.contains("127.0.0.1"))

        let guarded = try Configuration.parse(yaml: "web: {listen: \"0.0.0.0:8089\", token_file: /etc/orchestrator/web-token}")
        #expect(!guarded.validate().contains { $0.path.hasPrefix("web") })
        let defaults = try Configuration.parse(yaml: "web: {}")
        #expect(defaults.web.listen == "127.0.0.1:8089")
        #expect(!defaults.validate().contains { $0.path.hasPrefix("web") })
        #expect(throws: (any Error).self) { try Configuration.parse(yaml: "web: {token: secret}") }
    }

    @Test func theTokenComesFromTheEnvironmentAndMustBeLong() throws {
        let settings = WebSettings(token: SecretReference(environmentVariable: "WEB_TOKEN"))
        #expect(try settings.resolveToken(environment: ["WEB_TOKEN": "0123456789abcdef0123"]) == "0123456789abcdef0123")
        #expect(throws: ConfigurationError.self) { try settings.resolveToken(environment: ["WEB_TOKEN": "short"]) }
        #expect(throws: ConfigurationError.self) { try settings.resolveToken(environment: [:]) }
        #expect(try WebSettings().resolveToken(environment: ["WEB_TOKEN": "0123456789abcdef0123"]) == nil)
        do {
            _ = try settings.resolveToken(environment: ["WEB_TOKEN": "short-secret"])
        } catch {
            #expect(!"\(error)".contains("short-secret"))
        }
    }
}
