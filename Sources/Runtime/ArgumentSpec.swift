/// One `--arg key=value` a kind accepts, with its type and range.
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
    package let summary: String

    package init(_ name: String, _ type: ValueType, _ summary: String) {
        self.name = name
        self.type = type
        self.summary = summary
    }

    /// Parses the text given on the command line or in a schedule.
    package func parse(_ text: String) throws(JobValidationError) -> JSONValue {
        switch type {
        case .integer(let range):
            guard let value = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                throw JobValidationError("argument \(name): \(text.debugDescription) is not an integer (expected \(range.lowerBound)...\(range.upperBound))")
            }
            guard range.contains(value) else {
                throw JobValidationError("argument \(name): \(value) is out of range \(range.lowerBound)...\(range.upperBound)")
            }
            return .int(value)
        case .boolean:
            switch text.lowercased() {
            case "true", "yes", "1", "on": return .bool(true)
            case "false", "no", "0", "off": return .bool(false)
            default: throw JobValidationError("argument \(name): \(text.debugDescription) is not a boolean (expected true or false)")
            }
        case .text(let maxBytes):
            guard !text.isEmpty, text.utf8.count <= maxBytes else {
                throw JobValidationError("argument \(name): must be 1 to \(maxBytes) printable bytes")
            }
            if let problem = PrintableText.problem(in: text) { throw JobValidationError("argument \(name): \(problem)") }
            return .string(text)
        case .choice(let allowed):
            guard allowed.contains(text) else {
                throw JobValidationError("argument \(name): \(text.debugDescription) is not one of \(allowed.joined(separator: ", "))")
            }
            return .string(text)
        }
    }

    /// `ms=INT (0...86400000)` for help texts.
    package var usage: String {
        switch type {
        case .integer(let range): return "\(name)=INT (\(range.lowerBound)...\(range.upperBound))"
        case .boolean: return "\(name)=true|false"
        case .choice(let allowed): return "\(name)=\(allowed.joined(separator: "|"))"
        case .text: return "\(name)=TEXT"
        }
    }
}

import Foundation
import Support
import Queue
