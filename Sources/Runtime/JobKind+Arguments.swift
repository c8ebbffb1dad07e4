import Queue
import Settings
import Support

/// The registry and the worker hold kinds as `any JobKind`; these turn arguments from text and
/// from stored JSON into each kind's own `Arguments` before calling it.
extension JobKind {
    /// The arguments `--arg` accepts and `orchestrator kinds` lists.
    package var argumentSpecs: [ArgumentSpec] { Arguments.specs }

    /// `--arg` text to the stored form (only the arguments given, typed by their specs) and the
    /// decoded struct, whose rules across arguments have then been checked too.
    package func parseArguments(_ text: [String: String]) throws(JobValidationError) -> (stored: [String: JSONValue], decoded: Arguments) {
        var stored: [String: JSONValue] = [:]
        for (name, value) in text.sorted(by: { $0.key < $1.key }) {
            if let problem = PrintableText.problem(in: name) { throw JobValidationError("argument name \(problem)") }
            guard let spec = argumentSpecs.first(where: { $0.name == name }) else {
                throw JobValidationError.unknownArgument(name, kind: self.name, specs: argumentSpecs)
            }
            stored[name] = try spec.parse(value)
        }
        return (stored, try decodeArguments(stored))
    }

    /// The stored form (`jobs.args`) to the kind's `Arguments`, defaults applied.
    package func decodeArguments(_ stored: [String: JSONValue]) throws(JobValidationError) -> Arguments {
        try Arguments(ArgumentValues(stored, specs: argumentSpecs, kind: name))
    }

    /// Enqueue-time checks: the arguments, then the kind's own checks of target and arguments
    /// against the configuration. Returns what to store and the concurrency key.
    func prepareArguments(
        _ text: [String: String], target: String?, configuration: Configuration
    ) throws(JobValidationError) -> (stored: [String: JSONValue], concurrencyKey: String?) {
        let (stored, arguments) = try parseArguments(text)
        return (stored, try validate(target: target, arguments: arguments, configuration: configuration))
    }

    /// The role checks of a job with these stored arguments.
    func roleChecks(target: String?, stored: [String: JSONValue], configuration: Configuration) throws(JobValidationError) -> [RoleCheck] {
        roleChecks(target: target, arguments: try decodeArguments(stored), configuration: configuration)
    }

    /// Runs a claimed job with its stored arguments decoded. A job stored by another version may
    /// hold arguments this one does not accept: it fails for good, naming the argument, since
    /// retrying cannot change what is stored.
    func run(_ job: ClaimedJob, context: JobContext) async throws -> [String: JSONValue] {
        let arguments: Arguments
        do {
            arguments = try decodeArguments(job.arguments)
        } catch {
            throw PermanentJobError("the stored arguments are not valid for this version of \(name): \(error.message); enqueue the job again")
        }
        return try await run(job, arguments: arguments, context: context)
    }
}
