import Foundation
@testable import Health
@testable import Settings
@testable import Support
import Testing

/// The system sampler on this machine's real /proc, and service checks against real sockets
/// and executables.
@Suite("Health on this host")
struct HealthSystemTests {
    private func value(_ samples: [HealthSample], _ metric: String, subject: String = "host") throws -> Double {
        let sample = try #require(samples.first { $0.metric == metric && $0.subject == subject }, "no \(metric) for \(subject)")
        return try #require(sample.value, "\(metric) has no value: \(sample.message ?? "")")
    }

    @Test func theRealProcGivesSaneValues() async throws {
        let sampler = SystemSampler(mounts: ["/"])
        let start = try #require(sampler.readCPU())
        try await Task.sleep(for: .milliseconds(300))
        let samples = sampler.sample(cpuStart: start)
        #expect((0...100).contains(try value(samples, "cpu.usage_percent")))
        #expect((0...100).contains(try value(samples, "cpu.iowait_percent")))
        let cores = try value(samples, "cpu.cores")
        #expect(cores >= 1 && cores == Double(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #expect(try value(samples, "load.per_core") >= 0)
        #expect(abs(try value(samples, "load.per_core") - (try value(samples, "load.1m")) / cores) < 1e-9)
        let memory = try value(samples, "memory.used_percent")
        #expect(memory > 0 && memory < 100)
        #expect(try value(samples, "memory.total_bytes") >= (try value(samples, "memory.available_bytes")))
        #expect(try value(samples, "uptime.seconds") > 0)
        let disk = try value(samples, "disk.used_percent", subject: "/")
        #expect(disk > 0 && disk <= 100)
        #expect(try value(samples, "disk.total_bytes", subject: "/") >= (try value(samples, "disk.free_bytes", subject: "/")))

        // A sensor is either read or reported absent: never a made-up 0.
        let temperature = try #require(samples.first { $0.metric == "temperature.celsius" })
        if temperature.status == .ok {
            #expect((1..<150).contains(try #require(temperature.value)))
        } else {
            #expect(temperature.status == .absent)
            #expect(temperature.value == nil)
            #expect(temperature.message == "no sensor")
        }
        #expect(samples.allSatisfy { $0.category == .system })
        #expect(samples.allSatisfy { $0.status != .failed })
    }

    @Test func aMissingMountIsAFailedSampleNotACrash() {
        let samples = SystemSampler.disk("/no/such/mount")
        #expect(samples.count == 1)
        #expect(samples[0].status == .failed)
        #expect(samples[0].value == nil)
        #expect(samples[0].message == "cannot measure /no/such/mount: No such file or directory")
    }

    @Test func tcpChecksSeeOpenClosedAndUnresolvablePorts() throws {
        // A listening socket of our own on an ephemeral port; close-on-exec so that child
        // processes of tests running meanwhile do not keep it open.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #expect(listener >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(listener, raw, length) == 0, listen(listener, 4) == 0, getsockname(listener, raw, &length) == 0 else {
                    close(listener)
                    throw POSIXError(.EADDRNOTAVAIL)
                }
            }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))

        let open = TCPProbe.sample("mine", TCPCheck(host: "127.0.0.1", port: port, timeoutMs: 1000))
        #expect(open.map(\.metric) == ["tcp.up", "tcp.connect_ms"])
        #expect(open[0].value == 1 && open[0].status == .ok)
        #expect(open[0].details["port"] == .int(Int64(port)))

        close(listener)
        let closed = TCPProbe.sample("mine", TCPCheck(host: "127.0.0.1", port: port, timeoutMs: 1000))
        #expect(closed.count == 1)
        #expect(closed[0].value == 0)
        #expect(closed[0].status == .failed)
        #expect(closed[0].message == "127.0.0.1:\(port): Connection refused")

        let unknown = TCPProbe.sample("nowhere", TCPCheck(host: "no-such-host.invalid", port: 80, timeoutMs: 1000))
        #expect(unknown[0].status == .failed)
        #expect(unknown[0].message?.hasPrefix("cannot resolve no-such-host.invalid") == true)
    }

    /// Writes an executable script standing in for systemctl; returns its path. A child shell
    /// writes it, so no descriptor open for writing can leak into processes other tests spawn
    /// meanwhile (which would make executing it fail with "Text file busy").
    private func script(_ body: String) async throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("systemctl-\(UUID().uuidString)").path
        try await ChildProcess.run("/bin/sh", ["-c", "printf '%s\\n' \"$1\" > \"$2\" && chmod 755 \"$2\"", "sh", "#!/bin/sh\n\(body)", path])
        return path
    }

    @Test func unitsAreActiveInactiveMissingOrUnknownWithTheReason() async throws {
        let fake = try await script("""
            [ "$1 $2 $3 $4" = "show --no-pager --property=LoadState,ActiveState,SubState --" ] || exit 2
            printf 'LoadState=loaded\\nActiveState=active\\nSubState=running\\n\\nLoadState=not-found\\nActiveState=inactive\\nSubState=dead\\n'
            """)
        defer { try? FileManager.default.removeItem(atPath: fake) }
        let samples = await SystemdUnits.check(["postgresql", "gone.service"], systemctl: fake)
        #expect(samples.map(\.subject) == ["postgresql", "gone.service"])
        #expect(samples.map(\.status) == [.ok, .failed])
        #expect(samples[1].message == "unit not found")

        let noSystemd = try await script("echo 'System has not been booted with systemd as init system (PID 1). Can'\"'\"'t operate.' >&2; exit 1")
        defer { try? FileManager.default.removeItem(atPath: noSystemd) }
        let unknown = await SystemdUnits.check(["postgresql"], systemctl: noSystemd)
        #expect(unknown.map(\.status) == [.unknown])
        #expect(unknown[0].message?.hasPrefix("System has not been booted with systemd") == true)

        let absent = await SystemdUnits.check(["postgresql"], systemctl: nil)
        #expect(absent[0].status == .unknown)
        #expect(absent[0].message == "systemctl not found on this host")
        #expect(await SystemdUnits.check([], systemctl: fake).isEmpty)
    }

    @Test func theRealSystemctlNeverCrashesTheSample() async {
        let samples = await SystemdUnits.check(["no-such-unit-\(UInt32.random(in: 0...UInt32.max))"])
        #expect(samples.count == 1)
        // Not found with a running systemd; unknown with the reason on hosts without it.
        #expect(samples[0].status == .failed || samples[0].status == .unknown)
        #expect(samples[0].message?.isEmpty == false)
    }
}
