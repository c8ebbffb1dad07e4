/// `alerts.channels_for`: a list (every severity goes there) or one list per severity.
///
/// ```yaml
/// channels_for: [ops-telegram]
/// channels_for: {warning: [ops-telegram], critical: [ops-telegram, ops-mail]}
/// ```
package struct ChannelRouting: Sendable, Decodable, Equatable {
    package var warning: [String]
    package var critical: [String]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case warning, critical
    }

    package init(warning: [String], critical: [String]) {
        self.warning = warning
        self.critical = critical
    }

    package init(from decoder: any Decoder) throws {
        if let list = try? decoder.singleValueContainer().decode([String].self) {
            warning = list
            critical = list
            return
        }
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        warning = try c.decode(.warning, default: [])
        critical = try c.decode(.critical, default: [])
    }
}
