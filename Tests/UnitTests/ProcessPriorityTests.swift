import Foundation
@testable import Kinds
@testable import Settings
@testable import Support
import Testing

@Suite("Tool priority")
struct ProcessPriorityTests {
    /// Runs a child that writes its pid and waits for a file, and reads its nice value and I/O
    /// priority from outside while it lives, as the kernel sees them.
    static func observe(_ priority: ProcessPriority) async throws -> (nice: Int32, policy: Int32, ioPriority: Int32?, helperNice: Int32, helperPolicy: Int32) {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("priority-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // A helper forked by the tool (as pg_dump -j forks its workers) writes its own nice value.
        let script = "echo $$ > \(scratch)/pid; (cut -d' ' -f19,41 /proc/self/stat > \(scratch)/helper) ; "
            + "for i in $(seq 100); do [ -e \(scratch)/go ] && exit 0; sleep 0.05; done; exit 1"
        async let child = ChildProcess.run("/bin/sh", ["-c", script], priority: priority)
        var pid: pid_t?
        for _ in 0..<100 where pid == nil {
            try await Task.sleep(for: .milliseconds(20))
            pid = (try? String(contentsOfFile: scratch + "/pid", encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let running = try #require(pid)
        let stat = try String(contentsOfFile: "/proc/\(running)/stat", encoding: .utf8)
        // Fields after the command name, which is in parentheses: state is field 3, nice field 19,
        // the scheduling policy field 41.
        let fields = stat[stat.range(of: ")")!.upperBound...].split(separator: " ")
        let nice = try #require(Int32(fields[16]))
        let policy = try #require(Int32(fields[38]))
        let ioPriority = IOPriority.of(pid: running)
        _ = FileManager.default.createFile(atPath: scratch + "/go", contents: nil)
        _ = try await child
        let helper = try String(contentsOfFile: scratch + "/helper", encoding: .utf8).split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        try #require(helper.count == 2, "the helper's nice value and policy: \(helper)")
        return (nice, policy, ioPriority, helper[0], helper[1])
    }

    /// Niced but in the worker's own scheduling class: the idle class made the application wait
    /// longer during a dump (see `ProcessPriority`).
    @Test func aLowPriorityToolAndItsHelpersRunNicedAtTheLowestBestEffortIOPriority() async throws {
        let observed = try await Self.observe(.low)
        let own = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        #expect(observed.nice == max(own, ProcessPriority.lowNiceness))
        #expect(observed.helperNice == observed.nice)
        #expect(observed.policy == sched_getscheduler(0))
        #expect(observed.helperPolicy == sched_getscheduler(0))
        #expect(observed.ioPriority == (IOPriority.bestEffortClass << IOPriority.classShift | 7))
    }

    @Test func aNormalPriorityToolRunsAsTheWorker() async throws {
        let observed = try await Self.observe(.normal)
        #expect(observed.nice == getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0))
        #expect(observed.policy == sched_getscheduler(0))
        #expect(observed.ioPriority != (IOPriority.bestEffortClass << IOPriority.classShift | 7))
    }

    @Test func backupToolsRunAtLowPriorityUnlessConfiguredOtherwise() throws {
        #expect(try Configuration.parse(yaml: "backups: {}\n").backups.priority == .low)
        #expect(try Configuration.parse(yaml: "backups: {priority: normal}\n").backups.priority == .normal)
        do {
            _ = try Configuration.parse(yaml: "backups: {priority: lowest}\n")
            Issue.record("an unknown priority was accepted")
        } catch {
            let messages = error.errors.map(\.description)
            #expect(messages.contains { $0.hasPrefix("backups.priority: must be low or normal, got \"lowest\"") }, "\(messages)")
        }
    }

    @Test func oneDumpWorkerOnSmallHostsUnlessConfigured() throws {
        #expect(BackupSettings.defaultParallelJobs(cores: 1) == 1)
        #expect(BackupSettings.defaultParallelJobs(cores: 2) == 1)
        #expect(BackupSettings.defaultParallelJobs(cores: 4) == 2)
        #expect(try Configuration.parse(yaml: "backups: {}\n").backups.parallelJobs == BackupSettings.defaultParallelJobs())
        #expect(try Configuration.parse(yaml: "backups: {parallel_jobs: 2}\n").backups.parallelJobs == 2)
    }
}
