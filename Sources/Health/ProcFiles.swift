/// Pure parsers for the /proc files the system sampler reads, so they are tested on captured text.
enum ProcFiles {
    /// Aggregate CPU time counters (USER_HZ ticks) from the `cpu` line of /proc/stat.
    struct CPUTimes: Sendable, Equatable {
        var user: UInt64, nice: UInt64, system: UInt64, idle: UInt64
        var iowait: UInt64, irq: UInt64, softirq: UInt64, steal: UInt64

        /// guest and guest_nice are already counted in user and nice, so they are left out.
        var total: UInt64 { user + nice + system + idle + iowait + irq + softirq + steal }
        var idleTotal: UInt64 { idle + iowait }
    }

    struct CPUUsage: Sendable, Equatable {
        /// Everything but idle and iowait, as a share of all CPU time in the interval.
        var busyPercent: Double
        var iowaitPercent: Double
        var stealPercent: Double
    }

    /// The `cpu ` line and the number of `cpuN` lines (online CPUs).
    static func parseStat(_ text: String) -> (times: CPUTimes, cores: Int)? {
        var times: CPUTimes?
        var cores = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let name = fields.first, name.hasPrefix("cpu") else { continue }
            if name == "cpu" {
                let numbers = fields.dropFirst().map { UInt64($0) }
                guard numbers.count >= 4, !numbers.contains(nil) else { return nil }
                let n = numbers.map { $0 ?? 0 } + Array(repeating: 0, count: max(0, 8 - numbers.count))
                times = CPUTimes(user: n[0], nice: n[1], system: n[2], idle: n[3], iowait: n[4], irq: n[5], softirq: n[6], steal: n[7])
            } else if name.dropFirst(3).allSatisfy(\.isNumber) {
                cores += 1
            }
        }
        guard let times else { return nil }
        return (times, max(cores, 1))
    }

    /// Usage between two readings; nil when no time passed or the counters went backwards.
    static func usage(from old: CPUTimes, to new: CPUTimes) -> CPUUsage? {
        guard new.total > old.total, new.idleTotal >= old.idleTotal, new.iowait >= old.iowait, new.steal >= old.steal else { return nil }
        let total = Double(new.total - old.total)
        let idle = Double(new.idleTotal - old.idleTotal)
        return CPUUsage(
            busyPercent: min(100, max(0, (total - idle) / total * 100)),
            iowaitPercent: Double(new.iowait - old.iowait) / total * 100,
            stealPercent: Double(new.steal - old.steal) / total * 100
        )
    }

    /// /proc/meminfo as bytes by field (`MemTotal`, `MemAvailable`, `SwapTotal`, ...).
    static func parseMeminfo(_ text: String) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let parts = line[line.index(after: colon)...].split(separator: " ")
            guard let number = parts.first.flatMap({ UInt64($0) }) else { continue }
            let scale: UInt64 = parts.count > 1 && parts[1] == "kB" ? 1024 : 1
            result[String(line[..<colon])] = number * scale
        }
        return result
    }

    struct Memory: Sendable, Equatable {
        var totalBytes: UInt64
        var availableBytes: UInt64
        var usedPercent: Double
        /// Nil when the host has no swap.
        var swapUsedPercent: Double?
    }

    /// Used memory is what is not available (MemAvailable counts reclaimable cache as free).
    static func memory(_ fields: [String: UInt64]) -> Memory? {
        guard let total = fields["MemTotal"], total > 0 else { return nil }
        // Kernels before 3.14 have no MemAvailable: free + buffers + cache approximates it.
        let available = fields["MemAvailable"] ?? ((fields["MemFree"] ?? 0) + (fields["Buffers"] ?? 0) + (fields["Cached"] ?? 0))
        let clamped = min(available, total)
        var swap: Double?
        if let swapTotal = fields["SwapTotal"], swapTotal > 0 {
            swap = Double(swapTotal - min(fields["SwapFree"] ?? swapTotal, swapTotal)) / Double(swapTotal) * 100
        }
        return Memory(totalBytes: total, availableBytes: clamped, usedPercent: Double(total - clamped) / Double(total) * 100, swapUsedPercent: swap)
    }

    /// The 1, 5 and 15 minute load averages from /proc/loadavg.
    static func parseLoadavg(_ text: String) -> (Double, Double, Double)? {
        let fields = text.split(whereSeparator: \.isWhitespace).prefix(3).compactMap { Double($0) }
        guard fields.count == 3 else { return nil }
        return (fields[0], fields[1], fields[2])
    }

    /// Seconds since boot from /proc/uptime.
    static func parseUptime(_ text: String) -> Double? {
        text.split(whereSeparator: \.isWhitespace).first.flatMap { Double($0) }
    }
}
