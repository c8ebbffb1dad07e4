/// The checks of a configuration that need the job kinds, which live in the layers above this
/// one: the `kinds:` overrides name known kinds, and every schedule's job validates as if it
/// were enqueued now. Loading a configuration always runs them.
package protocol ConfigurationJobChecker: Sendable {
    func problems(in configuration: Configuration) -> [ConfigurationError]
}
