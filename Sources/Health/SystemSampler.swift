import Foundation
import Support

/// This host's CPU, load, memory, disk, temperature and uptime from /proc, statvfs and sysfs.
/// Blocking reads: call it through `Blocking.run`.
struct SystemSampler: Sendable {
    var mounts: [String]
    var procDirectory = "/proc"
    var classDirectory = "/sys/class"

    static let subject = "host"

    /// The first of the two /proc/stat readings CPU usage is computed from.
    func readCPU() -> ProcFiles.CPUTimes? {
        read("stat").flatMap(ProcFiles.parseStat)?.times
    }

    /// Everything but disks, plus one set of `disk.*` per mount. `cpuStart` is an earlier
    /// `readCPU()`; without it CPU usage is recorded as unknown.
    func sample(cpuStart: ProcFiles.CPUTimes?) -> [HealthSample] {
        var samples: [HealthSample] = []
        let host = Self.subject
        if let stat = read("stat").flatMap(ProcFiles.parseStat) {
            samples.append(HealthSample(.system, host, "cpu.cores", value: Double(stat.cores), unit: "count"))
            if let cpuStart, let usage = ProcFiles.usage(from: cpuStart, to: stat.times) {
                samples.append(HealthSample(.system, host, "cpu.usage_percent", value: usage.busyPercent, unit: "percent"))
                samples.append(HealthSample(.system, host, "cpu.iowait_percent", value: usage.iowaitPercent, unit: "percent"))
                samples.append(HealthSample(.system, host, "cpu.steal_percent", value: usage.stealPercent, unit: "percent"))
            } else {
                samples.append(.failure(.system, host, "cpu.usage_percent", "no CPU time passed between the two /proc/stat readings", status: .unknown))
            }
            if let load = read("loadavg").flatMap(ProcFiles.parseLoadavg) {
                samples.append(HealthSample(.system, host, "load.1m", value: load.0))
                samples.append(HealthSample(.system, host, "load.5m", value: load.1))
                samples.append(HealthSample(.system, host, "load.15m", value: load.2))
                samples.append(HealthSample(.system, host, "load.per_core", value: load.0 / Double(stat.cores), details: ["cores": .int(Int64(stat.cores))]))
            } else {
                samples.append(.failure(.system, host, "load.per_core", "cannot read \(procDirectory)/loadavg", status: .unknown))
            }
        } else {
            samples.append(.failure(.system, host, "cpu.usage_percent", "cannot read \(procDirectory)/stat", status: .unknown))
        }

        if let memory = read("meminfo").map(ProcFiles.parseMeminfo).flatMap(ProcFiles.memory) {
            samples.append(HealthSample(.system, host, "memory.used_percent", value: memory.usedPercent, unit: "percent"))
            samples.append(HealthSample(.system, host, "memory.total_bytes", value: Double(memory.totalBytes), unit: "bytes"))
            samples.append(HealthSample(.system, host, "memory.available_bytes", value: Double(memory.availableBytes), unit: "bytes"))
            if let swap = memory.swapUsedPercent {
                samples.append(HealthSample(.system, host, "swap.used_percent", value: swap, unit: "percent"))
            } else {
                samples.append(.failure(.system, host, "swap.used_percent", "no swap", status: .absent))
            }
        } else {
            samples.append(.failure(.system, host, "memory.used_percent", "cannot read \(procDirectory)/meminfo", status: .unknown))
        }

        let readings = TemperatureSensors.read(classDirectory: classDirectory)
        if let hottest = readings.max(by: { $0.celsius < $1.celsius }) {
            let sensors = Dictionary(readings.map { ($0.sensor, JSONValue.double($0.celsius)) }, uniquingKeysWith: { first, _ in first })
            samples.append(HealthSample(.system, host, "temperature.celsius", value: hottest.celsius, unit: "celsius",
                                        message: hottest.sensor, details: ["sensors": .object(sensors)]))
        } else {
            samples.append(.failure(.system, host, "temperature.celsius", "no sensor", status: .absent))
        }

        if let uptime = read("uptime").flatMap(ProcFiles.parseUptime) {
            samples.append(HealthSample(.system, host, "uptime.seconds", value: uptime, unit: "seconds"))
        }
        for mount in mounts {
            samples += Self.disk(mount)
        }
        return samples
    }

    /// `df`-style usage: used / (used + available to unprivileged users).
    static func disk(_ path: String) -> [HealthSample] {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            return [.failure(.system, path, "disk.used_percent", "cannot measure \(path): \(reason)")]
        }
        let block = Double(info.f_frsize)
        let total = Double(info.f_blocks) * block
        let used = Double(info.f_blocks - info.f_bfree) * block
        let available = Double(info.f_bavail) * block
        var samples = [
            HealthSample(.system, path, "disk.used_percent", value: used + available > 0 ? used / (used + available) * 100 : 0, unit: "percent"),
            HealthSample(.system, path, "disk.used_bytes", value: used, unit: "bytes"),
            HealthSample(.system, path, "disk.free_bytes", value: available, unit: "bytes"),
            HealthSample(.system, path, "disk.total_bytes", value: total, unit: "bytes"),
        ]
        if info.f_files > 0 {
            let usedInodes = Double(info.f_files - info.f_ffree)
            samples.append(HealthSample(.system, path, "disk.inodes_used_percent", value: usedInodes / Double(info.f_files) * 100, unit: "percent"))
        }
        return samples
    }

    private func read(_ name: String) -> String? {
        try? String(contentsOfFile: procDirectory + "/" + name, encoding: .utf8)
    }
}
