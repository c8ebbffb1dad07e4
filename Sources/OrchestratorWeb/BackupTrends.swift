import Foundation

/// A profile's charts on `/backups`: backup size and duration over its last backups, and the
/// RTO and RPO of its drills, each a sparkline with its newest value and range.
struct BackupTrends {
    struct Chart { let label: String; let latest: String; let range: String; let points: String }

    let charts: [Chart]

    init(_ profile: BackupCatalogView.Profile) {
        let drills = profile.drills.reversed().filter { $0.status == "passed" }
        charts = [
            Self.chart("size", profile.trend.map { Double($0.bytes) }, DisplayText.bytes),
            Self.chart("duration", profile.trend.map(\.seconds), DisplayText.duration),
            Self.chart("drill RTO", drills.compactMap(\.restoreSeconds), DisplayText.duration),
            Self.chart("drill RPO", drills.compactMap(\.backupAgeSeconds), DisplayText.duration),
        ].compactMap { $0 }
    }

    /// Nil for fewer than two values: a line needs two points, and one value is in the table.
    private static func chart(_ label: String, _ values: [Double], _ text: (Double) -> String) -> Chart? {
        guard let last = values.last, let low = values.min(), let high = values.max(), let points = Sparkline.points(values) else { return nil }
        return Chart(label: "\(label), last \(values.count)", latest: text(last), range: "\(text(low)) – \(text(high))", points: points)
    }

    /// For the backups template, inside a profile (`{{#trends}}` is this value).
    static let fragment = """
    {{#trends}}{{#charts}}<div class="tile"><div class="label">{{label}}</div><div class="value">{{latest}}</div>\
    <svg class="spark" viewBox="0 0 \(Int(Sparkline.width)) \(Int(Sparkline.height))" preserveAspectRatio="none" role="img" aria-label="{{label}}"><polyline points="{{points}}"/></svg>\
    <div class="since">{{range}}</div></div>{{/charts}}{{/trends}}
    """
}
