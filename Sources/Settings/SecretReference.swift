import Foundation

/// Where a secret is read from: an environment variable (`NAME_env: VARIABLE`) or a file
/// (`NAME_file: /path`), never the configuration itself. Read when a channel is built, so
/// commands that never send (jobs, status) need neither.
package struct SecretReference: Sendable, Equatable {
    package var environmentVariable: String?
    package var file: String?

    package init(environmentVariable: String? = nil, file: String? = nil) {
        self.environmentVariable = environmentVariable
        self.file = file
    }

    /// Reads `<base>_env` and `<base>_file` from a mapping.
    init(_ container: KeyedDecodingContainer<AnyCodingKey>, _ base: String) throws {
        environmentVariable = try container.decodeIfPresent(String.self, forKey: AnyCodingKey(stringValue: "\(base)_env"))
        file = try container.decodeIfPresent(String.self, forKey: AnyCodingKey(stringValue: "\(base)_file"))
    }

    package var isConfigured: Bool { environmentVariable != nil || file != nil }

    /// The secret's value (a file's content without its trailing line break), or an error for
    /// `path` (`alerts.channels.ops.bot_token`) that says what is missing and how to fix it.
    /// The value itself never appears in an error.
    package func resolve(path: String, environment: [String: String]) throws(ConfigurationError) -> String {
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                let reason = FileManager.default.fileExists(atPath: file) ? "it is not readable by this user (or not UTF-8 text)" : "it does not exist"
                throw ConfigurationError(path: "\(path)_file", "cannot read \(file): \(reason)")
            }
            let value = text.trimmingCharacters(in: .newlines)
            guard !value.isEmpty else { throw ConfigurationError(path: "\(path)_file", "\(file) is empty") }
            return value
        }
        if let variable = environmentVariable {
            guard let value = environment[variable], !value.isEmpty else {
                throw ConfigurationError(path: "\(path)_env", "environment variable \(variable) is not set or empty; set it in the service's environment (e.g. /etc/orchestrator/environment) or use \(path.split(separator: ".").last ?? "")_file")
            }
            return value
        }
        throw ConfigurationError(path: path, "not configured; set \(path.split(separator: ".").last ?? "")_env or \(path.split(separator: ".").last ?? "")_file")
    }
}
