import Alerting
import ArgumentParser
import Foundation
import Queue
import Settings
import Support

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Alerts: list open (or all) episodes, evaluate the built-in alerts now, test a channel.",
        subcommands: [List.self, Check.self, Test.self]
    )

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Send a test message through a configured channel; exit 1 with the cause when it is not delivered.",
            discussion: "Retries transient failures like a real alert does. Exit 64 for an unknown channel, 78 when its secret cannot be read."
        )
        @OptionGroup var global: GlobalOptions

        @Argument(help: "A channel name under alerts.channels.")
        var channel: String

        struct Result: Encodable {
            let channel: String
            let type: String
            let delivered: Bool
            let attempts: Int
            let durationSeconds: Double
            let error: String?
            let errorTransient: Bool?
            let statusCode: Int?
            let curlCode: Int?
        }

        func run() async throws {
            let environment = try global.environment()
            let configured: ConfiguredAlertChannel
            do {
                configured = try environment.configuration.alerts.channel(named: channel)
            } catch let unknown as UnknownAlertChannelError {
                throw ValidationError(unknown.description)
            } catch {
                // A secret that cannot be read is a configuration error (exit 78).
                configured = try reportingErrors { () throws -> ConfiguredAlertChannel in throw error }
            }
            let message = AlertMessage(
                alert: "orchestrator-test", title: "Test message from orchestrator on \(HostInfo.hostName)", severity: .info,
                body: "Sent by `orchestrator alerts test \(channel)` (\(HostInfo.userAtHost)). If you can read this, alerts sent through \(channel) reach you.",
                fields: [.init("channel", channel), .init("type", configured.type)], host: HostInfo.hostName
            )
            let report = await configured.deliver(message, logger: environment.logger)
            if global.json {
                try Output.printJSON(Result(
                    channel: report.channel, type: report.kind, delivered: report.delivered, attempts: report.attempts,
                    durationSeconds: (report.duration.seconds * 1000).rounded() / 1000, error: report.lastError?.message,
                    errorTransient: report.lastError?.isTransient, statusCode: report.lastError?.statusCode, curlCode: report.lastError?.curlCode
                ))
            }
            let attempts = report.attempts == 1 ? "1 attempt" : "\(report.attempts) attempts"
            guard report.delivered else {
                printError("\(channel) (\(configured.type)): not delivered after \(attempts): \(report.lastError?.message ?? "unknown error")")
                throw ExitCodes.failure
            }
            if !global.json {
                print("\(channel) (\(configured.type)): test message delivered in \(attempts), \(String(format: "%.2f", report.duration.seconds)) s")
            }
        }
    }
}
