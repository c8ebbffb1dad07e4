import ArgumentParser

/// Documented exit codes (see `orchestrator --help` and the README).
enum ExitCodes {
    static let failure = ExitCode(1)
    static let usage = ExitCode(64)
    static let migrationRefused = ExitCode(65)
    static let databaseUnavailable = ExitCode(69)
    static let configuration = ExitCode(78)
}
