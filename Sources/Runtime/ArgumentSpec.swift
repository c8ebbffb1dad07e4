import Foundation
import Queue
import Support

/// One `--arg key=value` a kind accepts: its type and range, its default and what it does.
/// Parsing at enqueue, decoding of stored jobs and `orchestrator kinds` all read it, so a range or
/// a default is written once. Kinds declare their arguments as typed `JobArgument`s, which carry one.
package struct ArgumentSpec: Sendable, Equatable {
    package enum ValueType: Sendable, Equatable {
        case integer(ClosedRange<Int64>)
        case boolean
        case choice([String])
        /// Free text of at most this many bytes, printable, no control characters.
        case text(maxBytes: Int)
    }

    package let name: String
    package let type: ValueType
    /// The value a job runs with when the argument is not given; nil when absence itself has a
    /// meaning (no `table`: every table).
    package let defaultValue: JSONValue?
    package let summary: String

    package init(_ name: String, _ type: ValueType, default defaultValue: JSONValue? = nil, _ summary: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.summary = summary
    }

    /// Parses the text given on the command line or in a schedule into the stored form.
    package func parse(_ text: String) throws(JobValidationError) -> JSONValue {
        switch type {
        case .integer(let range):
            guard let value = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                throw JobValidationError("argument \(name): \(text.debugDescription) is not an integer (expected \(range.lowerBound)...\(range.upperBound))")
            }
            return try check(.int(value))
        case .boolean:
            switch text.lowercased() {
            case "true", "yes", "1", "on": return .bool(true)
            case "false", "no", "0", "off": return .bool(false)
            default: throw JobValidationError("argument \(name): \(text.debugDescription) is not a boolean (expected true or false)")
            }
        case .text, .choice:
            return try check(.string(text))
        }
    }

    /// Checks a value in its stored form (`jobs.args`) as `parse` checks text: a job stored by
    /// another version of orchestrator may hold a value this one no longer accepts.
    package func check(_ value: JSONValue) throws(JobValidationError) -> JSONValue {
        switch (type, value) {
        case (.integer(let range), .int(let number)):
            guard range.contains(number) else {
                throw JobValidationError("argument \(name): \(number) is out of range \(range.lowerBound)...\(range.upperBound)")
            }
        case (.boolean, .bool):
            break
        case (.text(let maxBytes), .string(let text)):
            guard !text.isEmpty, text.utf8.count <= maxBytes else {
                throw JobValidationError("argument \(name): must be 1 to \(maxBytes) printable bytes")
            }
            if let problem = PrintableText.problem(in: text) { throw JobValidationError("argument \(name): \(problem)") }
        case (.choice(let allowed), .string(let text)):
            guard allowed.contains(text) else {
                throw JobValidationError("argument \(name): \(text.debugDescription) is not one of \(allowed.joined(separator: ", "))")
            }
        default:
            throw JobValidationError("argument \(name): \(value.jsonText) is not \(typeDescription)")
        }
        return value
    }

    /// `ms=INT (0...86400000)`, as error messages list the valid arguments.
    package var usage: String {
        switch type {
        case .integer(let range): return "\(name)=INT (\(range.lowerBound)...\(range.upperBound))"
        case .boolean: return "\(name)=true|false"
        case .choice(let allowed): return "\(name)=\(allowed.joined(separator: "|"))"
        case .text: return "\(name)=TEXT"
        }
    }

    /// `lock_timeout_ms=INT (1...600000), default 5000: give up on ...`, as `orchestrator kinds`
    /// prints it (and the README shows it).
    package var help: String {
        var line = usage
        if case .text(let maxBytes) = type { line += " (1...\(maxBytes) bytes)" }
        if let defaultValue { line += ", default \(defaultValue.jsonText)" }
        return line + ": " + summary
    }

    /// `integer`, `boolean`, `choice` or `text`, for `orchestrator kinds --json`.
    package var typeName: String {
        switch type {
        case .integer: "integer"
        case .boolean: "boolean"
        case .choice: "choice"
        case .text: "text"
        }
    }

    private var typeDescription: String {
        switch type {
        case .integer: "an integer"
        case .boolean: "a boolean"
        case .choice(let allowed): "one of \(allowed.joined(separator: ", "))"
        case .text: "text"
        }
    }
}
