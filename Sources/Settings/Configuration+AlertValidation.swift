import Alerting
import Foundation

extension Configuration {
    /// Shape checks of `alerts:` that need neither the environment nor the network. Whether
    /// secrets can be read is `AlertSettings.checkSecrets` (run by `config check` and whenever a
    /// channel is built), so commands that never send do not need the bot token.
    func validateAlerts() -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func check(_ condition: Bool, _ path: String, _ message: String) {
            if !condition { problems.append(ConfigurationError(path: path, message)) }
        }
        func checkSecret(_ secret: SecretReference, _ path: String, required: Bool) {
            let key = path.split(separator: ".").last.map(String.init) ?? path
            check(!(secret.environmentVariable != nil && secret.file != nil), path, "set either \(key)_env or \(key)_file, not both")
            if required { check(secret.isConfigured, path, "missing; set \(key)_env (an environment variable) or \(key)_file (a file)") }
            if let variable = secret.environmentVariable {
                check(isEnvironmentName(variable), "\(path)_env", "\(variable.debugDescription) is not an environment variable name")
            }
            if let file = secret.file { check(file.hasPrefix("/"), "\(path)_file", "must be an absolute path, got \(file.debugDescription)") }
        }
        func isHTTPURL(_ text: String) -> Bool {
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), url.host?.isEmpty == false else { return false }
            return scheme == "http" || scheme == "https"
        }

        checkSecret(alerts.heartbeatURLSecret, "alerts.heartbeat_url", required: false)
        check(alerts.heartbeatURL == nil || !alerts.heartbeatURLSecret.isConfigured, "alerts.heartbeat_url",
              "set one of heartbeat_url, heartbeat_url_env or heartbeat_url_file")
        if let url = alerts.heartbeatURL {
            check(isHTTPURL(url), "alerts.heartbeat_url", "must be an http:// or https:// URL, got \(HeartbeatURL.display(url).debugDescription)")
        }

        for (name, channel) in alerts.channels.sorted(by: { $0.key < $1.key }) {
            let path = "alerts.channels.\(name)"
            check(isConfigName(name), path, "name must be lower-case letters, digits, _ or -")
            check((1...300).contains(channel.timeoutSeconds), "\(path).timeout_seconds", "must be 1...300, got \(channel.timeoutSeconds)")
            check((1...10).contains(channel.attempts), "\(path).attempts", "must be 1...10, got \(channel.attempts)")
            switch channel.destination {
            case .telegram(let telegram):
                checkSecret(telegram.botToken, "\(path).bot_token", required: true)
                check(!telegram.chatID.isEmpty && !telegram.chatID.contains(where: \.isWhitespace), "\(path).chat_id",
                      "must be a chat id (-100123…) or @channelname, got \(telegram.chatID.debugDescription)")
                check(isHTTPURL(telegram.apiURL), "\(path).api_url", "must be an http:// or https:// URL, got \(telegram.apiURL.debugDescription)")
            case .webhook(let webhook):
                checkSecret(webhook.urlSecret, "\(path).url", required: false)
                let sources = (webhook.url == nil ? 0 : 1) + (webhook.urlSecret.isConfigured ? 1 : 0)
                check(sources == 1, "\(path).url", "set exactly one of url, url_env or url_file")
                if let url = webhook.url { check(isHTTPURL(url), "\(path).url", "must be an http:// or https:// URL, got \(url.debugDescription)") }
                problems += validateHeaders(webhook, path: path)
            case .email(let email):
                let scheme = URL(string: email.smtpURL)?.scheme?.lowercased()
                check(["smtp", "smtps"].contains(scheme ?? "") && URL(string: email.smtpURL)?.host?.isEmpty == false, "\(path).smtp_url",
                      "must be smtp://host[:port] or smtps://host[:port], got \(email.smtpURL.debugDescription)")
                check(!(email.startTLS && scheme == "smtps"), "\(path).starttls", "smtps:// is TLS from the start; remove starttls or use smtp://")
                check(EmailChannel.isPlainAddress(email.from), "\(path).from", "\(email.from.debugDescription) is not a plain address (local@domain)")
                check(!email.to.isEmpty, "\(path).to", "must list at least one address")
                for (index, address) in email.to.enumerated() {
                    check(EmailChannel.isPlainAddress(address), "\(path).to[\(index)]", "\(address.debugDescription) is not a plain address (local@domain)")
                }
                checkSecret(email.password, "\(path).password", required: email.username != nil)
                check(email.username != nil || !email.password.isConfigured, "\(path).username", "a password is configured but no username")
                let host = URL(string: email.smtpURL)?.host ?? ""
                let loopback = ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host)
                check(email.username == nil || scheme == "smtps" || email.startTLS || loopback, "\(path).starttls",
                      "the password would cross the network in clear text; set starttls: true or use smtps://")
            }
        }
        return problems
    }

    private func validateHeaders(_ webhook: WebhookChannelSettings, path: String) -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        let tokenCharacters = CharacterSet(charactersIn: "!#$%&'*+-.^_`|~").union(.alphanumerics)
        var seen: [String: String] = [:]
        let groups: [(String, [String: String])] = [("headers", webhook.headers), ("headers_env", webhook.headersEnv), ("headers_file", webhook.headersFile)]
        for (key, headers) in groups {
            for (header, value) in headers.sorted(by: { $0.key < $1.key }) {
                let at = "\(path).\(key).\(header)"
                if header.isEmpty || !header.unicodeScalars.allSatisfy({ $0.isASCII && tokenCharacters.contains($0) }) {
                    problems.append(ConfigurationError(path: at, "not a valid HTTP header name"))
                }
                if let other = seen.updateValue(key, forKey: header.lowercased()) {
                    problems.append(ConfigurationError(path: at, "header also set under \(path).\(other)"))
                }
                switch key {
                case "headers":
                    if value.contains("\r") || value.contains("\n") { problems.append(ConfigurationError(path: at, "must be one line")) }
                    if Self.looksSecret(header) {
                        problems.append(ConfigurationError(path: at, "looks like a secret; secrets are never written in the configuration: move it to headers_env or headers_file"))
                    }
                case "headers_env":
                    if !isEnvironmentName(value) { problems.append(ConfigurationError(path: at, "\(value.debugDescription) is not an environment variable name")) }
                default:
                    if !value.hasPrefix("/") { problems.append(ConfigurationError(path: at, "must be an absolute path, got \(value.debugDescription)")) }
                }
            }
        }
        return problems
    }

    /// Header names that carry credentials by convention.
    static func looksSecret(_ header: String) -> Bool {
        let name = header.lowercased()
        return ["authorization", "proxy-authorization", "cookie"].contains(name)
            || ["token", "secret", "password", "api-key", "apikey", "api_key", "signature"].contains { name.contains($0) }
    }
}
