import Foundation

extension Configuration {
    /// `health:` problems, each with its path. Names that end up as subjects, unit names handed
    /// to systemctl and hosts handed to the resolver are restricted to plain characters.
    func validateHealth() -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func check(_ condition: Bool, _ path: String, _ message: String) {
            if !condition { problems.append(ConfigurationError(path: path, message)) }
        }
        let configured = databases.keys.sorted().joined(separator: ", ")
        for (index, mount) in health.mounts.enumerated() {
            check(mount.hasPrefix("/") && !mount.split(separator: "/").contains("..") && !mount.utf8.contains(0) && mount.utf8.count <= 1024,
                  "health.mounts[\(index)]", "must be an absolute path without '..', got \(mount.debugDescription)")
        }
        for (index, name) in (health.databases ?? []).enumerated() {
            check(databases[name] != nil, "health.databases[\(index)]", "\(name.debugDescription) is not under databases: (configured: \(configured))")
        }
        for (index, unit) in health.systemdUnits.enumerated() {
            check(Self.isUnitName(unit), "health.systemd_units[\(index)]",
                  "\(unit.debugDescription) is not a systemd unit name (letters, digits and :_.@\\- ; not starting with -)")
        }
        for (name, tcp) in health.tcp.sorted(by: { $0.key < $1.key }) {
            let path = "health.tcp.\(name)"
            check(isConfigName(name), path, "name must be lower-case letters, digits, _ or -")
            check(Self.isHostName(tcp.host), "\(path).host", "\(tcp.host.debugDescription) is not a host name or IP address")
            check((1...65_535).contains(tcp.port), "\(path).port", "must be 1...65535, got \(tcp.port)")
            check((1...60_000).contains(tcp.timeoutMs), "\(path).timeout_ms", "must be 1...60000, got \(tcp.timeoutMs)")
        }
        for (name, http) in health.http.sorted(by: { $0.key < $1.key }) {
            let path = "health.http.\(name)"
            check(isConfigName(name), path, "name must be lower-case letters, digits, _ or -")
            check(Self.isPlainURL(http.url), "\(path).url",
                  "must be an http:// or https:// URL without spaces and without user:password@ (secrets never go in this file)")
            check((100...599).contains(http.expectStatus), "\(path).expect_status", "must be an HTTP status 100...599, got \(http.expectStatus)")
            check((1...120_000).contains(http.timeoutMs), "\(path).timeout_ms", "must be 1...120000, got \(http.timeoutMs)")
            if let caFile = http.caFile {
                check(caFile.hasPrefix("/") && http.url.lowercased().hasPrefix("https://"), "\(path).ca_file",
                      "must be an absolute path to a PEM file, for an https:// URL, got \(caFile.debugDescription)")
            }
        }
        for (name, sql) in health.sql.sorted(by: { $0.key < $1.key }) {
            let path = "health.sql.\(name)"
            check(isConfigName(name), path, "name must be lower-case letters, digits, _ or -")
            check(databases[sql.database] != nil, "\(path).database", "\(sql.database.debugDescription) is not under databases: (configured: \(configured))")
            check(!sql.sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(path).sql", "must not be empty")
            check((1...300).contains(sql.timeoutSeconds), "\(path).timeout_seconds", "must be 1...300, got \(sql.timeoutSeconds)")
            if let unit = sql.unit {
                check(!unit.isEmpty && unit.utf8.count <= 32 && !unit.unicodeScalars.contains { $0.properties.generalCategory == .control },
                      "\(path).unit", "must be 1 to 32 printable bytes")
            }
        }
        check((0...100).contains(health.deadTuplesTop), "health.dead_tuples_top", "must be 0...100, got \(health.deadTuplesTop)")
        check((0...100).contains(health.biggestTables), "health.biggest_tables", "must be 0...100, got \(health.biggestTables)")
        check((100...60_000).contains(health.statementTimeoutMs), "health.statement_timeout_ms", "must be 100...60000, got \(health.statementTimeoutMs)")
        check((100...10_000).contains(health.cpuIntervalMs), "health.cpu_interval_ms", "must be 100...10000, got \(health.cpuIntervalMs)")
        check((1...3650).contains(health.keepRawDays), "health.keep_raw_days", "must be 1...3650, got \(health.keepRawDays)")
        check((1...36_500).contains(health.keepDailyDays), "health.keep_daily_days", "must be 1...36500, got \(health.keepDailyDays)")
        return problems
    }

    static func isUnitName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first != "-", name.utf8.count <= 256 else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ":_.@\\-".unicodeScalars.contains($0)) }
    }

    /// A DNS name, an IPv4 address or an IPv6 address; never an option (`-x`) or anything else.
    static func isHostName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first != "-", name.utf8.count <= 253 else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-:".unicodeScalars.contains($0)) }
    }

    static func isPlainURL(_ text: String) -> Bool {
        guard text.utf8.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              ["http", "https"].contains(scheme), url.host?.isEmpty == false, url.user == nil, url.password == nil else { return false }
        return !text.unicodeScalars.contains { $0.properties.generalCategory == .control || $0 == " " }
    }
}
