import Foundation
import Support

/// Whether configured systemd units are active, from one `systemctl show` subprocess. A host
/// without systemctl, or without a running systemd, makes every unit "unknown" with the
/// reason, never a crash.
enum SystemdUnits {
    static let metric = "systemd.active"

    struct UnitState: Sendable, Equatable {
        var loadState: String
        var activeState: String
        var subState: String
    }

    static func check(_ units: [String], systemctl: String? = ChildProcess.locate("systemctl")) async -> [HealthSample] {
        guard !units.isEmpty else { return [] }
        guard let systemctl else {
            return units.map { .failure(.service, $0, metric, "systemctl not found on this host", status: .unknown) }
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("orchestrator-systemctl-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let failure: String?
        do {
            // `--` ends the options; unit names are also validated not to start with '-'.
            try await ChildProcess.run(systemctl, ["show", "--no-pager", "--property=LoadState,ActiveState,SubState", "--"] + units,
                                       standardOutput: output, killGrace: .seconds(1))
            failure = nil
        } catch let error as ChildProcess.Failure {
            failure = error.outcome.stderrTail.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").first.map(String.init)
                ?? error.description
        } catch {
            failure = "\(error)"
        }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let states = parseShow(text)
        guard failure == nil, states.count == units.count else {
            let reason = failure ?? "systemctl returned \(states.count) states for \(units.count) units"
            return units.map { .failure(.service, $0, metric, reason, status: .unknown) }
        }
        return zip(units, states).map { unit, state in sample(unit, state) }
    }

    static func sample(_ unit: String, _ state: UnitState) -> HealthSample {
        let details: [String: JSONValue] = [
            "load_state": .string(state.loadState), "active_state": .string(state.activeState), "sub_state": .string(state.subState),
        ]
        if state.loadState == "not-found" {
            return HealthSample(.service, unit, metric, value: 0, status: .failed, message: "unit not found", details: details)
        }
        let active = ["active", "reloading"].contains(state.activeState)
        return HealthSample(.service, unit, metric, value: active ? 1 : 0, status: active ? .ok : .failed,
                            message: "\(state.activeState) (\(state.subState))", details: details)
    }

    /// `systemctl show` prints one block of `Key=value` lines per unit, separated by blank lines,
    /// in the order the units were named.
    static func parseShow(_ text: String) -> [UnitState] {
        var states: [UnitState] = []
        var current: [String: String] = [:]
        func flush() {
            guard !current.isEmpty else { return }
            states.append(UnitState(loadState: current["LoadState"] ?? "", activeState: current["ActiveState"] ?? "", subState: current["SubState"] ?? ""))
            current = [:]
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                flush()
            } else if let equals = line.firstIndex(of: "=") {
                current[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
        }
        flush()
        return states
    }
}
