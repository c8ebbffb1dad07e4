import Foundation
import Scheduling

/// The schedules table of `/jobs`: last and next occurrence, late and missed ones of the last
/// 30 days, and an overdue occurrence (no scheduler ticking) in red.
struct ScheduleRows {
    struct Row { let name: String; let cron: String; let job: String; let last: String; let lastJobID: String; let hasLastJob: Bool; let next: String; let irregular: String; let level: String }

    let rows: [Row]
    let hasRows: Bool
    let days = ScheduleStatus.recentDays

    init(_ schedules: [ScheduleStatus], now: Date) {
        rows = schedules.map { s in
            var last = "never"
            if let at = s.lastScheduledFor { last = "\(DisplayText.ago(at, now: now)) (\(s.lastOutcome ?? "?")\(s.lastJobState.map { ", job \($0.rawValue)" } ?? ""))" }
            var irregular = "\(s.recentLate) late, \(s.recentMissed) missed"
            if let at = s.lastIrregular { irregular += "; last \(DisplayText.ago(at, now: now))" }
            let level: String
            if let overdue = s.overdueSince {
                irregular = "overdue since \(DisplayText.ago(overdue, now: now)); " + irregular
                level = "critical"
            } else {
                level = s.recentMissed > 0 ? "warning" : (s.enabled ? "ok" : "unknown")
            }
            return Row(name: s.name, cron: "\(s.cron) \(s.timeZone)", job: s.kind + (s.target.map { " \($0)" } ?? ""), last: last,
                       lastJobID: s.lastJobID.map(String.init) ?? "", hasLastJob: s.lastJobID != nil,
                       next: s.enabled ? (s.nextRun.map { DisplayText.time($0) } ?? "–") : "disabled", irregular: irregular, level: level)
        }
        hasRows = !rows.isEmpty
    }

    /// The section, for the jobs template (`{{#schedules}}` is this value).
    static let fragment = """
    {{#schedules}}<section>
    <h2>Schedules</h2>
    {{#hasRows}}<div class="scroll"><table><thead><tr><th>name</th><th>cron</th><th>job</th><th>last</th><th>next</th><th>late and missed ({{days}} days)</th></tr></thead><tbody>{{/hasRows}}
    {{#rows}}<tr class="{{level}}"><td>{{name}}</td><td>{{cron}}</td><td>{{job}}</td><td>{{last}}{{#hasLastJob}} <a href="/jobs/{{lastJobID}}">#{{lastJobID}}</a>{{/hasLastJob}}</td><td>{{next}}</td><td class="wrap">{{irregular}}</td></tr>
    {{/rows}}
    {{#hasRows}}</tbody></table></div>{{/hasRows}}
    {{^hasRows}}<p>No schedule configured.</p>{{/hasRows}}
    </section>{{/schedules}}
    """
}
