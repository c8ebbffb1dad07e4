import Logging

extension Worker {
    /// Runs `step` every `interval` (measured from the start of each step, so a slow step is
    /// followed at once by the next) until the task is cancelled. A failed step is logged and
    /// tried again at the next beat; the step's `ConnectionHolder` has dropped a broken
    /// connection by then and reconnects with backoff. Between steps the loop only sleeps.
    func every(_ interval: Duration, _ what: String, _ step: () async throws -> Void) async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let started = clock.now
            do {
                try await step()
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("\(what) failed; will retry", metadata: ["error": "\(error)"])
            }
            do {
                try await Task.sleep(until: started + interval, clock: clock)
            } catch {
                return
            }
        }
    }
}
