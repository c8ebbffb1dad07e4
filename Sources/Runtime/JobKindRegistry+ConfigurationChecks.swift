import Queue
import Settings

extension JobKindRegistry: ConfigurationJobChecker {
    /// `kinds:` overrides name known kinds, and every schedule's job is valid as if enqueued now.
    package func problems(in configuration: Configuration) -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        for name in configuration.kinds.keys.sorted() where kind(named: name) == nil {
            problems.append(ConfigurationError(path: "kinds.\(name)", "unknown job kind; valid kinds: \(names.joined(separator: ", "))"))
        }
        for (index, schedule) in configuration.schedules.enumerated() {
            do {
                _ = try prepare(
                    JobRequest(kind: schedule.kind, target: schedule.target, arguments: schedule.args, queue: schedule.queue,
                               priority: schedule.priority ?? 0, enqueuedBy: "schedule:\(schedule.name)"),
                    configuration: configuration, hostName: "localhost"
                )
            } catch {
                problems.append(ConfigurationError(path: "schedules[\(index)]", error.message))
            }
        }
        return problems
    }
}

extension Configuration {
    /// Every check that needs no database, the job kinds' included.
    package func validate(registry: JobKindRegistry) -> [ConfigurationError] {
        validate() + registry.problems(in: self)
    }
}
