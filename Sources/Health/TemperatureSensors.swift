import Foundation

/// Temperature sensors in sysfs: thermal zones (`thermal/thermal_zone*/temp`) and hwmon chips
/// (`hwmon/hwmon*/temp*_input`, e.g. coretemp on an Intel NUC). Values are millidegrees Celsius.
enum TemperatureSensors {
    struct Reading: Sendable, Equatable {
        let sensor: String
        let celsius: Double
    }

    /// Every plausible reading under `classDirectory` (normally /sys/class). Readings outside
    /// 0 to 150 °C are what disconnected or broken sensors report, so they are skipped; no
    /// readings means "no sensor", never 0.
    static func read(classDirectory: String = "/sys/class") -> [Reading] {
        var readings: [Reading] = []
        let thermal = classDirectory + "/thermal"
        for zone in entries(thermal).filter({ $0.hasPrefix("thermal_zone") }) {
            let directory = thermal + "/" + zone
            guard let celsius = milliCelsius(directory + "/temp") else { continue }
            readings.append(Reading(sensor: text(directory + "/type").map { "\($0) (\(zone))" } ?? zone, celsius: celsius))
        }
        let hwmon = classDirectory + "/hwmon"
        for chip in entries(hwmon).filter({ $0.hasPrefix("hwmon") }) {
            let directory = hwmon + "/" + chip
            let chipName = text(directory + "/name") ?? chip
            for input in entries(directory).filter({ $0.hasPrefix("temp") && $0.hasSuffix("_input") }) {
                guard let celsius = milliCelsius(directory + "/" + input) else { continue }
                let label = text(directory + "/" + input.replacingOccurrences(of: "_input", with: "_label"))
                    ?? String(input.dropLast("_input".count))
                readings.append(Reading(sensor: "\(chipName) \(label)", celsius: celsius))
            }
        }
        return readings.sorted { $0.sensor < $1.sensor }
    }

    private static func entries(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    private static func text(_ path: String) -> String? {
        guard let value = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    private static func milliCelsius(_ path: String) -> Double? {
        guard let raw = text(path).flatMap({ Double($0) }) else { return nil }
        let celsius = raw / 1000
        return celsius > 0 && celsius < 150 ? celsius : nil
    }
}
