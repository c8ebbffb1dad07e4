import Foundation
@testable import Health
import Testing

/// Parsers of /proc, sysfs and systemctl output, on captured text.
@Suite("Health parsing")
struct HealthParsingTests {
    static let statBefore = """
        cpu  16078 4 5397 46935 326 0 37 13 0 0
        cpu0 7497 2 2493 24349 44 0 12 6 0 0
        cpu1 8580 2 2904 22586 281 0 25 6 0 0
        intr 1404939 0 9 0 0 0 0 0 0 0 0
        ctxt 2622387
        btime 1732489000
        """
    // 1000 ticks later: 600 busy (user 400, system 150, irq 0, softirq 30, steal 20), 300 idle, 100 iowait.
    static let statAfter = """
        cpu  16478 4 5547 47235 426 0 67 33 0 0
        cpu0 7697 2 2568 24499 94 0 27 16 0 0
        cpu1 8780 2 2979 22736 331 0 40 16 0 0
        """

    @Test func cpuUsageComesFromTwoStatReadings() throws {
        let before = try #require(ProcFiles.parseStat(Self.statBefore))
        let after = try #require(ProcFiles.parseStat(Self.statAfter))
        #expect(before.cores == 2)
        #expect(before.times == ProcFiles.CPUTimes(user: 16078, nice: 4, system: 5397, idle: 46935, iowait: 326, irq: 0, softirq: 37, steal: 13))
        let usage = try #require(ProcFiles.usage(from: before.times, to: after.times))
        #expect(abs(usage.busyPercent - 60) < 1e-9)
        #expect(abs(usage.iowaitPercent - 10) < 1e-9)
        #expect(abs(usage.stealPercent - 2) < 1e-9)
        #expect(ProcFiles.usage(from: before.times, to: before.times) == nil)  // no time passed
        #expect(ProcFiles.usage(from: after.times, to: before.times) == nil)  // counters went backwards
    }

    @Test func oldKernelsWithFourCPUFieldsStillParse() throws {
        let parsed = try #require(ProcFiles.parseStat("cpu 10 0 5 100\ncpu0 10 0 5 100\n"))
        #expect(parsed.times.total == 115)
        #expect(ProcFiles.parseStat("intr 1 2 3\n") == nil)
        #expect(ProcFiles.parseStat("cpu a b c d\n") == nil)
    }

    @Test func memoryIsWhatIsNotAvailable() throws {
        let text = """
            MemTotal:       16000000 kB
            MemFree:         2000000 kB
            MemAvailable:    4000000 kB
            Buffers:          100000 kB
            Cached:          1500000 kB
            SwapTotal:       2000000 kB
            SwapFree:        1500000 kB
            HugePages_Total:       0
            """
        let fields = ProcFiles.parseMeminfo(text)
        #expect(fields["MemTotal"] == 16_000_000 * 1024)
        #expect(fields["HugePages_Total"] == 0)
        let memory = try #require(ProcFiles.memory(fields))
        #expect(memory.usedPercent == 75)
        #expect(memory.availableBytes == 4_000_000 * 1024)
        #expect(memory.swapUsedPercent == 25)

        let noSwap = try #require(ProcFiles.memory(ProcFiles.parseMeminfo("MemTotal: 1000 kB\nMemAvailable: 900 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n")))
        #expect(noSwap.swapUsedPercent == nil)
        // Before MemAvailable existed: free + buffers + cache.
        let old = try #require(ProcFiles.memory(ProcFiles.parseMeminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 100 kB\nCached: 300 kB\n")))
        #expect(old.usedPercent == 50)
        #expect(ProcFiles.memory(ProcFiles.parseMeminfo("garbage\n")) == nil)
    }

    @Test func loadAndUptime() throws {
        let load = try #require(ProcFiles.parseLoadavg("2.30 0.83 0.34 9/154 10680\n"))
        #expect(load.0 == 2.30 && load.1 == 0.83 && load.2 == 0.34)
        #expect(ProcFiles.parseLoadavg("2.30\n") == nil)
        #expect(ProcFiles.parseUptime("345.38 469.35\n") == 345.38)
        #expect(ProcFiles.parseUptime("") == nil)
    }

    @Test func temperatureComesFromHwmonAndThermalZonesAndSkipsImplausibleReadings() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sysfs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        func write(_ path: String, _ text: String) throws {
            let url = URL(fileURLWithPath: root + "/" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        #expect(TemperatureSensors.read(classDirectory: root).isEmpty)  // nothing there: no sensor
        try write("hwmon/hwmon1/name", "coretemp\n")
        try write("hwmon/hwmon1/temp1_input", "52000\n")
        try write("hwmon/hwmon1/temp1_label", "Package id 0\n")
        try write("hwmon/hwmon1/temp2_input", "0\n")  // disconnected sensor
        try write("thermal/thermal_zone0/type", "acpitz\n")
        try write("thermal/thermal_zone0/temp", "27800\n")
        try write("thermal/thermal_zone1/temp", "-273000\n")

        let readings = TemperatureSensors.read(classDirectory: root)
        #expect(readings == [
            .init(sensor: "acpitz (thermal_zone0)", celsius: 27.8),
            .init(sensor: "coretemp Package id 0", celsius: 52),
        ])
        let sampler = SystemSampler(mounts: [], classDirectory: root)
        let temperature = try #require(sampler.sample(cpuStart: nil).first { $0.metric == "temperature.celsius" })
        #expect(temperature.value == 52)
        #expect(temperature.status == .ok)
        #expect(temperature.message == "coretemp Package id 0")
    }

    @Test func queryTextLosesItsLiterals() {
        #expect(QueryText.redacted("ALTER ROLE app PASSWORD 'hunter2'") == "ALTER ROLE app PASSWORD '…'")
        #expect(QueryText.redacted("SELECT 'it''s', x FROM t WHERE y = $1") == "SELECT '…', x FROM t WHERE y = $1")
        #expect(QueryText.redacted("DO $body$ BEGIN PERFORM 'secret'; END $body$") == "DO '…'")
        #expect(QueryText.redacted("SELECT $$secret$$, 1") == "SELECT '…', 1")
        #expect(QueryText.redacted("SELECT 'unterminated secret") == "SELECT '…'")
        #expect(QueryText.redacted("SELECT\n  1,\t2") == "SELECT 1, 2")
        #expect(QueryText.redacted(String(repeating: "x", count: 500)).count == 200)
    }

    @Test func systemctlShowBlocksBecomeUnitStates() {
        let text = """
            LoadState=loaded
            ActiveState=active
            SubState=running

            LoadState=not-found
            ActiveState=inactive
            SubState=dead

            LoadState=loaded
            ActiveState=failed
            SubState=failed

            """
        let states = SystemdUnits.parseShow(text)
        #expect(states.count == 3)
        let samples = zip(["postgresql", "nope", "trading-agent"], states).map { SystemdUnits.sample($0, $1) }
        #expect(samples.map(\.value) == [1, 0, 0])
        #expect(samples.map(\.status) == [.ok, .failed, .failed])
        #expect(samples.map(\.message) == ["active (running)", "unit not found", "failed (failed)"])
        #expect(SystemdUnits.parseShow("").isEmpty)
    }

    @Test func transactionsPerSecondNeedAnOlderComparableCounter() {
        let now = Date()
        let previous = PostgresSampler.Counter(value: 1000, takenAt: now.addingTimeInterval(-100))
        let rate = PostgresSampler.transactionsPerSecond("app", total: 6000, takenAt: now, previous: previous)
        #expect(rate.value == 50)
        #expect(rate.status == .ok)
        #expect(PostgresSampler.transactionsPerSecond("app", total: 10, takenAt: now, previous: nil).status == .unknown)
        let reset = PostgresSampler.transactionsPerSecond("app", total: 10, takenAt: now, previous: previous)
        #expect(reset.status == .unknown)
        #expect(reset.value == nil)
        #expect(reset.message == "statistics were reset since the previous sample")
    }

    @Test func aSampleWithoutAFiniteNumberIsNeverOK() {
        #expect(HealthSample(.check, "x", "check.value", value: .nan).status == .unknown)
        #expect(HealthSample(.check, "x", "check.value", value: .infinity).value == nil)
        #expect(HealthSample(.check, "x", "check.value", value: nil).status == .unknown)
        #expect(HealthSample(.check, "x", "check.value", value: 0).status == .ok)
    }
}
