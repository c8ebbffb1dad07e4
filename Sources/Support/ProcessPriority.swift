import Foundation

/// How much of the host a child tool may take from the application beside it.
///
/// `low` gives a spawned tool nice 10 and the lowest best-effort I/O priority (7), from its
/// start (`LowPrioritySpawner`), so helpers it forks (`pg_dump -j`) inherit both. Not the idle
/// scheduling class (`SCHED_IDLE`): the kernel counts a core that runs only idle-class tasks as
/// idle when it places a waking task, so the server backend feeding the tool and the
/// application's own processes are put there together and wait for each other. Measured
/// (bench/impact, docs/benchmarks.md): `pg_dump -Fc` in the idle class doubled the application's
/// p50, niced or at normal priority it did not. Best-effort 7 rather than the idle I/O class:
/// under a disk the application keeps busy, idle I/O may never be served and a backup would
/// never finish. `normal` leaves the tool as the worker is.
package enum ProcessPriority: String, Sendable, CaseIterable {
    case low
    case normal

    /// The nice value `low` gives a tool.
    package static let lowNiceness: Int32 = 10
    /// `IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7)`.
    package static let lowIOPriority: Int32 = (IOPriority.bestEffortClass << IOPriority.classShift) | 7

    /// Lowers the calling thread for good (a thread may lower itself without privilege, not
    /// raise itself back): only `LowPrioritySpawner`'s thread calls it. Should it fail, tools
    /// spawned there run at the worker's priority, which is safe.
    package func applyToCurrentThread() {
        guard self == .low else { return }
        // `who` 0 is the calling thread on Linux, for both calls.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.lowNiceness)
        _ = IOPriority.set(who: IOPriority.whoProcess, id: 0, value: Self.lowIOPriority)
    }
}

/// The `ioprio_get`/`ioprio_set` system calls, which glibc does not wrap. Its variadic
/// `syscall` cannot be imported into Swift, so it is looked up once and called through a
/// fixed-argument type: glibc's `syscall` is an assembly routine that only moves integer
/// registers, and integer arguments of a variadic call travel exactly like fixed ones on the
/// Linux ABIs of x86-64 and AArch64.
package enum IOPriority {
    package static let classShift: Int32 = 13
    package static let bestEffortClass: Int32 = 2
    package static let idleClass: Int32 = 3
    static let whoProcess: Int32 = 1

    private typealias Syscall = @convention(c) (CLong, CLong, CLong, CLong) -> CLong

    private static let syscallFunction: Syscall? = {
        // A null handle is RTLD_DEFAULT on glibc: search the process's global symbols.
        guard let symbol = dlsym(nil, "syscall") else { return nil }
        return unsafeBitCast(symbol, to: Syscall.self)
    }()

    #if arch(x86_64)
    private static let getNumber: CLong = 252
    private static let setNumber: CLong = 251
    #elseif arch(arm64)
    private static let getNumber: CLong = 31
    private static let setNumber: CLong = 30
    #else
    private static let getNumber: CLong = -1
    private static let setNumber: CLong = -1
    #endif

    static func set(who: Int32, id: pid_t, value: Int32) -> Bool {
        guard let syscallFunction, setNumber >= 0 else { return false }
        return syscallFunction(setNumber, CLong(who), CLong(id), CLong(value)) == 0
    }

    /// The I/O priority of process `pid` (class << 13 | level), or nil when it cannot be read.
    package static func of(pid: pid_t) -> Int32? {
        guard let syscallFunction, getNumber >= 0 else { return nil }
        let value = syscallFunction(getNumber, CLong(whoProcess), CLong(pid), 0)
        return value < 0 ? nil : Int32(value)
    }
}
