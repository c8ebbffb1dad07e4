import Queue
import Support

/// A job's arguments in their stored form, each checked against its kind's spec: what a kind's
/// `Arguments` reads its fields from.
package struct ArgumentValues: Sendable {
    private let specs: [ArgumentSpec]
    private let stored: [String: JSONValue]

    /// Every argument must be one the kind declares, of its type and in its range.
    package init(_ stored: [String: JSONValue], specs: [ArgumentSpec], kind: String) throws(JobValidationError) {
        for (name, value) in stored.sorted(by: { $0.key < $1.key }) {
            guard let spec = specs.first(where: { $0.name == name }) else {
                throw JobValidationError.unknownArgument(name, kind: kind, specs: specs)
            }
            _ = try spec.check(value)
        }
        self.specs = specs
        self.stored = stored
    }

    /// The argument's value, or its default when the job does not give it.
    package subscript<Value>(_ argument: JobArgument<Value>) -> Value {
        get throws(JobValidationError) {
            // An argument read but left out of `specs` could never be given: a mistake in the kind.
            guard specs.contains(argument.spec) else {
                throw JobValidationError("argument \(argument.spec.name) is read but not among the kind's declared arguments")
            }
            return argument.read(stored[argument.spec.name])
        }
    }
}

extension JobValidationError {
    /// `noop has no argument "colour"; valid: ms=INT (0...86400000), ...`
    static func unknownArgument(_ name: String, kind: String, specs: [ArgumentSpec]) -> JobValidationError {
        let valid = specs.map(\.usage)
        return JobValidationError("\(kind) has no argument \(name.debugDescription); valid: \(valid.isEmpty ? "none" : valid.joined(separator: ", "))")
    }
}
