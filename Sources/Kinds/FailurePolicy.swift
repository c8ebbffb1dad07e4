import Backups
import Database
import Maintenance
import PostgresClient
import Queue
import RemoteFiles
import Runtime

/// Maps what the domain modules throw to retry policy: errors that will fail again however
/// often the job is retried fail it at once; everything else (a lost connection, a full disk, a
/// tool that crashed) is retried with backoff.
package enum FailurePolicy {
    package static func isPermanent(_ error: any Error) -> Bool {
        switch error {
        case is PermanentJobError, is JobValidationError:
            return true
        case let error as JobFailure:
            return error.permanent
        // A database that is not configured or does not exist, a table or grant that is missing,
        // a backup that cannot satisfy the request or a client tool that is not installed.
        case is TargetDatabaseError, is MaintenanceError, is BackupRequestError:
            return true
        // A refused host key or login, or a bad path: the repository's settings must change first.
        case let error as RemoteFileError:
            return !error.isTransient
        case let error as PostgresError:
            guard let state = error.sqlState else { return false }
            // 22 data exception, 28 authorization, 3D missing database, 42 syntax/undefined object, 0A unsupported.
            return ["22", "28", "3D", "42", "0A"].contains(String(state.prefix(2)))
        default:
            return false
        }
    }
}
