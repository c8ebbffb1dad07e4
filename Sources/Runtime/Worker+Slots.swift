import Foundation
import Logging
import Queue

extension Worker {
    /// One slot: takes the next claimed job, runs it, hands its outcome to the recorder;
    /// returns when the buffer closes.
    func slotLoop(index: Int, buffer: JobBuffer, recorder: OutcomeRecorder) async {
        var slotLogger = logger
        slotLogger[metadataKey: "worker.slot"] = "\(index)"
        let executor = JobExecutor(
            registry: registry, configuration: configuration, connector: connector, running: running,
            retryBackoff: options.retryBackoff, archiver: options.archiver, logger: slotLogger, hostName: identity.host, jobStarted: { [timeouts] in timeouts.ring() }
        )
        while let waiting = await buffer.take() {
            let startDelay = ContinuousClock.now - waiting.claimedAt
            let (outcome, tail) = await executor.run(waiting.job, recorder: recorder)
            recorder.record(JobQueue.Completion(job: waiting.job, outcome: outcome, logTail: tail, startDelay: startDelay))
            if buffer.done() { doorbell.ring() }  // the dispatcher has room to claim again
        }
    }
}

extension Worker {
    /// Stops jobs that ran past their timeout. Checks once a second while jobs run, and sleeps
    /// on a doorbell while none do, so an idle worker has no timer firing.
    func timeoutLoop() async {
        while !Task.isCancelled {
            let seen = timeouts.generation
            if running.hasDeadlines {
                try? await Task.sleep(for: .seconds(1))
                running.stopOverdue()
            } else {
                await timeouts.wait(after: seen, timeout: .seconds(3600))
            }
        }
    }
}
