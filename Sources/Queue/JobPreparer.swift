import Settings

/// Turns a request into a validated job ready to insert (the job kinds do this; the scheduler
/// and `enqueue` only need this much of them).
package protocol JobPreparer: Sendable {
    func prepare(_ request: JobRequest, configuration: Configuration, hostName: String) throws(JobValidationError) -> PreparedJob
}
