import Backups
import Queue
import Runtime
import Settings

/// A backup named by a job's target: its id, or `latest` (of a profile with `profile=P`).
enum BackupReference {
    /// Restores and drills both take it.
    static let profile = JobArgument.text("profile", maxBytes: 63, "with 'latest': the newest backup of this profile")
    /// Restores and drills from an off-site copy.
    static let repository = JobArgument.text(
        "repository", maxBytes: 63, "use the backup's copy in this remote repository (repositories:), fetched and verified first"
    )

    static func validate(repository: String?, configuration: Configuration) throws(JobValidationError) {
        guard let repository, repository != RepositorySettings.localName else { return }
        do {
            _ = try RemoteRepository(named: repository, in: configuration)
        } catch {
            throw JobValidationError(error.message)
        }
    }

    static func validate(_ reference: String?) throws(JobValidationError) {
        guard let reference, reference != "latest" else { return }
        guard let id = Int64(reference), id > 0 else {
            throw JobValidationError("\(reference.debugDescription) is not a backup id or 'latest'")
        }
    }

    /// Restoring creates a database (a drill a scratch one): the role needs CREATEDB, checked in
    /// the databases of the profile named (or of every profile).
    static func createDatabaseChecks(profile: String?, configuration: Configuration) -> [RoleCheck] {
        let profiles = profile.map { [$0] } ?? configuration.backups.profiles.keys.sorted()
        let databases = Set(profiles.flatMap { configuration.backups.profiles[$0]?.databases ?? [] }).sorted()
        return databases.map { database in RoleCheck(database: database) { try await BackupPrivileges.createDatabaseProblem(on: $0) } }
    }

    /// The backup to restore or drill: from this host, or fetched from `repository` into a
    /// verified local directory that `finish` removes afterwards (a backup retention already
    /// deleted here can still come back from its copy).
    static func resolve(
        _ reference: String?, profile: String?, repository: String?, context: JobContext
    ) async throws -> (record: BackupRecord, fetched: String?) {
        guard let repository, repository != RepositorySettings.localName else {
            return (try await resolve(reference, profile: profile, context: context), nil)
        }
        let remote = try RemoteRepository(named: repository, in: context.configuration)
        let record = try await context.withOrchestratorDatabase { connection in
            let found = (reference ?? "latest") == "latest"
                ? try await BackupCopyCatalog.newestCopied(repository: remote.name, profile: profile, method: .logical, on: connection)
                : try await BackupCatalog.find(reference ?? "latest", profile: profile, method: .logical, on: connection)
            guard let record = found else {
                throw PermanentJobError("no backup \(reference ?? "latest")\(profile.map { " of profile \($0)" } ?? "") with a copy in \(remote.name)")
            }
            return record
        }
        let fetched = try await RemoteBackupFetcher(environment: context.backups, repository: remote).fetch(record)
        return (fetched, fetched.location)
    }

    static func resolve(_ reference: String?, profile: String?, context: JobContext) async throws -> BackupRecord {
        try await context.withOrchestratorDatabase { connection in
            // `latest` means the newest logical backup: restores and drills of dumps; a physical
            // copy is restored with `pitr restore` and drilled by `pitr-drill`.
            guard let record = try await BackupCatalog.find(reference ?? "latest", profile: profile, method: .logical, on: connection) else {
                throw PermanentJobError("no backup \(reference ?? "latest")\(profile.map { " of profile \($0)" } ?? "") in the catalog")
            }
            guard record.deletedAt == nil else { throw PermanentJobError("backup \(record.id) was deleted") }
            return record
        }
    }
}
