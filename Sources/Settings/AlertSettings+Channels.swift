import Alerting
import Foundation
import Logging
import Support

/// A configured channel ready to send, with its retry policy.
package struct ConfiguredAlertChannel: Sendable {
    package let name: String
    /// `telegram`, `webhook` or `email`.
    package let type: String
    package let channel: any AlertChannel
    package let policy: DeliveryPolicy

    /// Sends with retries; never throws (see `AlertDelivery`).
    package func deliver(_ message: AlertMessage, logger: Logger) async -> DeliveryReport {
        await AlertDelivery.deliver(message, via: channel, policy: policy, logger: logger)
    }
}

/// `alerts test NAME` (or a rule) names a channel that is not configured.
package struct UnknownAlertChannelError: Error, Sendable, CustomStringConvertible {
    package let name: String
    package let configured: [String]

    package var description: String {
        configured.isEmpty
            ? "unknown alert channel \(name.debugDescription): no channels are configured (alerts.channels in the configuration)"
            : "unknown alert channel \(name.debugDescription); configured channels: \(configured.joined(separator: ", "))"
    }
}

extension AlertSettings {
    /// Builds the named channel, reading its secrets now.
    package func channel(
        named name: String, environment: [String: String] = ProcessInfo.processInfo.environment, transport: CurlTransport = CurlTransport()
    ) throws -> ConfiguredAlertChannel {
        guard let settings = channels[name] else {
            throw UnknownAlertChannelError(name: name, configured: channels.keys.sorted())
        }
        return try Self.build(name: name, settings: settings, environment: environment, transport: transport)
    }

    /// Every channel built once: secrets present and readable, tokens and addresses well formed.
    /// Nothing is sent. Run by `config check`.
    package func checkSecrets(environment: [String: String] = ProcessInfo.processInfo.environment) -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        if heartbeatURLSecret.isConfigured {
            do { _ = try heartbeatURLSecret.resolve(path: "alerts.heartbeat_url", environment: environment) } catch { problems.append(error) }
        }
        for name in channels.keys.sorted() {
            do {
                _ = try channel(named: name, environment: environment)
            } catch let error as ConfigurationError {
                problems.append(error)
            } catch {
                problems.append(ConfigurationError(path: "alerts.channels.\(name)", "\(error)"))
            }
        }
        return problems
    }

    static func build(
        name: String, settings: AlertChannelSettings, environment: [String: String], transport: CurlTransport
    ) throws(ConfigurationError) -> ConfiguredAlertChannel {
        let path = "alerts.channels.\(name)"
        let timeouts = ChannelTimeouts(totalSeconds: settings.timeoutSeconds)
        let userAgent = "orchestrator/\(OrchestratorVersion.current)"
        // Errors raised while building name the key the offending value came from.
        func built(_ key: String, _ make: () throws(AlertDeliveryError) -> any AlertChannel) throws(ConfigurationError) -> any AlertChannel {
            do {
                return try make()
            } catch {
                throw ConfigurationError(path: "\(path).\(key)", error.message)
            }
        }
        let channel: any AlertChannel
        switch settings.destination {
        case .telegram(let telegram):
            let token = try telegram.botToken.resolve(path: "\(path).bot_token", environment: environment)
            channel = try built(telegram.botToken.file != nil ? "bot_token_file" : "bot_token_env") { () throws(AlertDeliveryError) in
                try TelegramChannel(name: name, botToken: token, chatID: telegram.chatID, apiBaseURL: telegram.apiURL,
                                    timeouts: timeouts, transport: transport, userAgent: userAgent)
            }
        case .webhook(let webhook):
            var secrets: [String] = []
            let url: String
            if let inline = webhook.url {
                url = inline
            } else {
                url = try webhook.urlSecret.resolve(path: "\(path).url", environment: environment)
                secrets.append(url)
            }
            var headers = webhook.headers.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
            for (header, variable) in webhook.headersEnv.sorted(by: { $0.key < $1.key }) {
                let value = try SecretReference(environmentVariable: variable).resolve(path: "\(path).headers", environment: environment)
                headers.append((name: header, value: value))
                secrets.append(value)
            }
            for (header, file) in webhook.headersFile.sorted(by: { $0.key < $1.key }) {
                let value = try SecretReference(file: file).resolve(path: "\(path).headers", environment: environment)
                headers.append((name: header, value: value))
                secrets.append(value)
            }
            channel = try built("url") { () throws(AlertDeliveryError) in
                try WebhookChannel(name: name, url: url, headers: headers, secrets: secrets, timeouts: timeouts, transport: transport, userAgent: userAgent)
            }
        case .email(let email):
            let password = email.password.isConfigured ? try email.password.resolve(path: "\(path).password", environment: environment) : nil
            channel = try built("smtp_url") { () throws(AlertDeliveryError) in
                try EmailChannel(name: name, smtpURL: email.smtpURL, startTLS: email.startTLS, username: email.username, password: password,
                                 from: email.from, to: email.to, timeouts: timeouts, transport: transport)
            }
        }
        return ConfiguredAlertChannel(name: name, type: settings.type, channel: channel, policy: DeliveryPolicy(maxAttempts: settings.attempts))
    }
}
