import Foundation

/// Finds the `migrations/` directory: an explicit path, `ORCHESTRATOR_MIGRATIONS_DIR`, the
/// installed `/usr/share/orchestrator/migrations`, or the source checkout the binary was built in.
package enum MigrationDirectory {
    package static func locate(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let explicit { return URL(fileURLWithPath: explicit) }
        if let fromEnvironment = environment["ORCHESTRATOR_MIGRATIONS_DIR"], !fromEnvironment.isEmpty {
            return URL(fileURLWithPath: fromEnvironment)
        }
        var candidates = [URL(fileURLWithPath: "/usr/share/orchestrator/migrations")]
        // A binary under <checkout>/.build/<config>/orchestrator: walk up to the checkout.
        var directory = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(directory.appendingPathComponent("migrations"))
            directory.deleteLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("migrations"))
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("0001_job_queue.sql").path) {
            return candidate
        }
        throw MigrationError("migrations directory not found (looked in /usr/share/orchestrator/migrations and next to the binary); pass --migrations-dir or set ORCHESTRATOR_MIGRATIONS_DIR")
    }
}
