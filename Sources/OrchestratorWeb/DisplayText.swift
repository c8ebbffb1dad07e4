import Foundation

/// How the pages write times, ages and measured values.
enum DisplayText {
    static func ago(_ date: Date?, now: Date) -> String {
        guard let date else { return "never" }
        return "\(duration(now.timeIntervalSince(date))) ago"
    }

    static func duration(_ seconds: Double) -> String {
        let s = max(0, seconds)
        switch s {
        case ..<120: return "\(Int(s)) s"
        case ..<7200: return "\(Int(s / 60)) min"
        case ..<172_800: return String(format: "%.1f h", s / 3600)
        default: return String(format: "%.1f days", s / 86_400)
        }
    }

    /// A format style, not a new `ISO8601DateFormatter` per call: a page of 150 backups formatted
    /// 150 times, and building the formatter was most of the cost.
    static func time(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var amount = value, index = 0
        while abs(amount) >= 1024 && index < units.count - 1 { amount /= 1024; index += 1 }
        return index == 0 ? "\(Int(amount)) B" : String(format: "%.1f %@", amount, units[index])
    }

    static func value(_ value: Double?, unit: String?) -> String {
        guard let value else { return "–" }
        switch unit {
        case "percent": return String(format: "%.1f %%", value)
        case "bytes": return bytes(value)
        case "seconds": return duration(value)
        case "milliseconds": return String(format: "%.1f ms", value)
        case "celsius": return String(format: "%.1f °C", value)
        case "per_second": return String(format: "%.1f/s", value)
        case "boolean": return value == 1 ? "yes" : "no"
        default:
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.2f", value)
        }
    }
}
