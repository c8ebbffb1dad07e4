import Database
import PostgresClient
import Queue
import Settings

extension JobKindRegistry {
    /// What each enabled schedule's job needs of the database role it runs as, checked in the
    /// catalogs of each database it works on (the kinds say what: `JobKind.roleChecks`). A
    /// missing grant is named with the statement that adds it.
    package func roleProblems(configuration: Configuration, connector: DatabaseConnector) async -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        for schedule in configuration.schedules where schedule.enabled {
            // An invalid schedule is reported by validation; here only what a valid one needs.
            guard let kind = kind(named: schedule.kind),
                  let job = try? prepare(
                      JobRequest(kind: schedule.kind, target: schedule.target, arguments: schedule.args, enqueuedBy: "config check"),
                      configuration: configuration, hostName: "localhost"),
                  let checks = try? kind.roleChecks(target: job.target, stored: job.arguments, configuration: configuration)
            else { continue }
            let path = "schedules.\(schedule.name) (\(schedule.kind)\(schedule.target.map { " \($0)" } ?? ""))"
            for (database, databaseChecks) in Dictionary(grouping: checks, by: \.database).sorted(by: { $0.key < $1.key }) {
                guard let target = configuration.databases[database] else { continue }  // reported by validate()
                do {
                    let connection = try await PostgresConnection.connect(try connector.configuration(for: target))
                    defer { connection.close() }
                    for check in databaseChecks {
                        if let problem = try await check.problem(connection) {
                            problems.append(ConfigurationError(path: path, "database \(database): \(problem)"))
                        }
                    }
                } catch {
                    problems.append(ConfigurationError(path: path, "cannot check privileges in database \(target.dbname): \(error)"))
                }
            }
        }
        return problems
    }
}
