/// A problem in the configuration file, located by its path (`schedules[2].cron`).
package struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    package let path: String
    package let message: String

    package init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    package var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// All problems found in one file, so `config check` reports them together.
package struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    package let file: String
    package let errors: [ConfigurationError]

    package init(file: String, errors: [ConfigurationError]) {
        self.file = file
        self.errors = errors
    }

    package var description: String {
        "invalid configuration \(file):\n" + errors.map { "  \($0)" }.joined(separator: "\n")
    }
}

extension ConfigurationError {
    /// `schedules[2].cron` from a decoding path.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    init(_ error: DecodingError) {
        switch error {
        case .typeMismatch(let type, let context):
            self.init(path: Self.path(context.codingPath), "expected \(Self.name(of: type)); \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            self.init(path: Self.path(context.codingPath), "missing value (expected \(Self.name(of: type)))")
        case .keyNotFound(let key, let context):
            self.init(path: Self.path(context.codingPath + [key]), "required key is missing")
        case .dataCorrupted(let context):
            self.init(path: Self.path(context.codingPath), context.debugDescription)
        @unknown default:
            self.init(path: "", "\(error)")
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type: return "an integer"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        case is Double.Type: return "a number"
        default: return "\(type)"
        }
    }
}
