/// `web:`: where `orchestrator serve` listens and the bearer token that guards the dashboard.
///
/// ```yaml
/// web:
///   listen: 0.0.0.0:8089
///   token_file: /etc/orchestrator/web-token
/// ```
package struct WebSettings: Sendable, Decodable, Equatable {
    /// `host:port`; loopback by default, so nothing but this host can reach an unguarded dashboard.
    package var listen: String
    /// The bearer token (`token_env` / `token_file`); required for any bind but loopback.
    package var token: SecretReference

    package static let defaultListen = "127.0.0.1:8089"
    /// Shorter tokens can be guessed through the login form.
    package static let minimumTokenLength = 16

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, tokenEnv = "token_env", tokenFile = "token_file"
    }

    package init(listen: String = WebSettings.defaultListen, token: SecretReference = SecretReference()) {
        self.listen = listen
        self.token = token
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        listen = try c.decode(AnyCodingKey(stringValue: CodingKeys.listen.rawValue), default: WebSettings.defaultListen)
        token = try SecretReference(c, "token")
    }

    /// What stops `serve` from listening on `listen` (nil when it may): an address that does not
    /// parse, or one beyond loopback without a token.
    package func accessProblem(listen text: String, path: String = "web.listen") -> ConfigurationError? {
        guard let address = ListenAddress(parsing: text) else {
            return ConfigurationError(path: path, "\(text.debugDescription) is not host:port (e.g. 127.0.0.1:8089 or [::1]:8089)")
        }
        if !address.isLoopback && !token.isConfigured {
            return ConfigurationError(path: path, """
                listening on \(address) (beyond this host) without a token is refused: set web.token_env or web.token_file \
                (a random string, e.g. `openssl rand -hex 32`), or listen on 127.0.0.1
                """)
        }
        return nil
    }

    /// The token's value, checked for length; nil when none is configured.
    package func resolveToken(environment: [String: String]) throws(ConfigurationError) -> String? {
        guard token.isConfigured else { return nil }
        let value = try token.resolve(path: "web.token", environment: environment)
        guard value.count >= Self.minimumTokenLength else {
            throw ConfigurationError(path: "web.token", "the token is shorter than \(Self.minimumTokenLength) characters; use a random one, e.g. `openssl rand -hex 32`")
        }
        return value
    }
}

extension Configuration {
    func validateWeb() -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        if let problem = web.accessProblem(listen: web.listen) { problems.append(problem) }
        if let variable = web.token.environmentVariable, !isEnvironmentName(variable) {
            problems.append(ConfigurationError(path: "web.token_env", "\(variable.debugDescription) is not an environment variable name"))
        }
        if web.token.environmentVariable != nil && web.token.file != nil {
            problems.append(ConfigurationError(path: "web", "set token_env or token_file, not both"))
        }
        return problems
    }
}
