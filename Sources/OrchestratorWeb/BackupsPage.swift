import Backups
import Foundation
import Mustache

/// `/backups`. Every string is HTML-escaped by the template (`{{…}}`); none is inserted raw.
struct BackupsPage {
    struct Backup { let id: Int64; let label: String; let method: String; let started: String; let size: String; let duration: String; let verify: String; let level: String; let drills: String; let retention: String; let copies: String }
    struct Deleted { let label: String; let finished: String; let size: String; let deleted: String; let reason: String }
    struct Profile { let name: String; let path: String; let backups: [Backup]; let hasBackups: Bool; let trends: BackupTrends; let hasTrends: Bool; let deleted: [Deleted]; let hasDeleted: Bool }

    let profiles: [Profile]
    let hasProfiles: Bool
    let generatedAt: String
    /// The action forms' hidden field; nil (no forms, a note instead) without a token.
    let formToken: String
    let hasForms: Bool

    init(_ view: BackupCatalogView, formToken: String?) {
        let now = view.generatedAt
        profiles = view.profiles.map { profile in
            let drills = Dictionary(grouping: profile.drills, by: \.backupID)
            let backups = profile.backups.map { backup in
                let verify = backup.verifyStatus ?? "unverified"
                let drillText = (drills[backup.id] ?? []).map { drill in
                    var text = "\(drill.status) \(DisplayText.ago(drill.finishedAt, now: now))"
                    if let rto = drill.restoreSeconds { text += ", RTO \(DisplayText.duration(rto))" }
                    if let rpo = drill.backupAgeSeconds { text += ", RPO \(DisplayText.duration(rpo))" }
                    if let error = drill.error { text += ": \(JobsPage.firstLine(error))" }
                    return text
                }.joined(separator: "; ")
                return Backup(id: backup.id, label: backup.label, method: backup.method.rawValue, started: DisplayText.time(backup.startedAt),
                              size: DisplayText.bytes(Double(backup.bytes)), duration: DisplayText.duration(backup.finishedAt.timeIntervalSince(backup.startedAt)),
                              verify: backup.verifyError.map { "\(verify): \(JobsPage.firstLine($0))" } ?? verify,
                              level: verify == "passed" ? "ok" : (verify == "failed" ? "critical" : "warning"), drills: drillText.isEmpty ? "–" : drillText,
                              retention: Self.retention(profile.keptBecause[String(backup.id)]),
                              copies: BackupCopyRecord.summary(of: profile.copies[String(backup.id)] ?? []))
            }
            let deleted = profile.deleted.map { d in
                Deleted(label: d.label, finished: DisplayText.time(d.finishedAt), size: DisplayText.bytes(Double(d.bytes)),
                        deleted: DisplayText.ago(d.deletedAt, now: now), reason: d.reason ?? "–")
            }
            let trends = BackupTrends(profile)
            // A configured name, but a URL path segment all the same.
            let path = "/backups/" + (profile.profile.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            return Profile(name: profile.profile, path: path, backups: backups, hasBackups: !backups.isEmpty, trends: trends, hasTrends: !trends.charts.isEmpty,
                           deleted: deleted, hasDeleted: !deleted.isEmpty)
        }
        hasProfiles = !profiles.isEmpty
        self.formToken = formToken ?? ""
        hasForms = formToken != nil
        generatedAt = DisplayText.time(now)
    }

    /// What retention decides today: the rules that keep the backup, or that the next prune deletes it.
    static func retention(_ rules: [String]?) -> String {
        guard let rules else { return "–" }
        return rules.isEmpty ? "deleted by the next prune" : "kept: " + rules.joined(separator: ", ")
    }

    static let text = """
    \(PageLayout.head(title: "backups"))
    <header class="top ok"><h1>Backups</h1><p class="meta">{{generatedAt}}</p></header>
    <main>
    {{#profiles}}<section>
    <h2>{{name}}</h2>
    {{#hasForms}}<div class="actions"><form method="post" action="{{path}}/backup"><input type="hidden" name="form_token" value="{{formToken}}"><button type="submit">Back up now</button></form><form method="post" action="{{path}}/drill"><input type="hidden" name="form_token" value="{{formToken}}"><button type="submit">Drill the latest backup</button></form></div>{{/hasForms}}
    {{#hasTrends}}<div class="tiles">\(BackupTrends.fragment)</div>{{/hasTrends}}
    {{#hasBackups}}<div class="scroll"><table><thead><tr><th>id</th><th>label</th><th>method</th><th>started</th><th>size</th><th>took</th><th>verification</th><th>drills</th><th>retention</th><th>copies</th></tr></thead><tbody>{{/hasBackups}}
    {{#backups}}<tr class="{{level}}"><td>{{id}}</td><td>{{label}}</td><td>{{method}}</td><td>{{started}}</td><td>{{size}}</td><td>{{duration}}</td><td>{{verify}}</td><td class="wrap">{{drills}}</td><td>{{retention}}</td><td>{{copies}}</td></tr>
    {{/backups}}
    {{#hasBackups}}</tbody></table></div>{{/hasBackups}}
    {{^hasBackups}}<p>No backup in the catalog.</p>{{/hasBackups}}
    {{#hasDeleted}}<h3>Deleted</h3><div class="scroll"><table><thead><tr><th>label</th><th>finished</th><th>size</th><th>deleted</th><th>why</th></tr></thead><tbody>
    {{#deleted}}<tr><td>{{label}}</td><td>{{finished}}</td><td>{{size}}</td><td>{{deleted}}</td><td class="wrap">{{reason}}</td></tr>
    {{/deleted}}</tbody></table></div>{{/hasDeleted}}
    </section>
    {{/profiles}}
    {{^hasProfiles}}<section><p>No backup profile configured.</p></section>{{/hasProfiles}}
    {{#hasProfiles}}{{^hasForms}}<p class="note">Enqueueing a backup or a drill from here needs the dashboard's token (web.token_env or web.token_file).</p>{{/hasForms}}{{/hasProfiles}}
    </main>
    </body>
    </html>
    """

    static let template = try! MustacheTemplate(string: text)
}

// Field lookups by name for the template, instead of swift-mustache's reflection (as for the
// rows of JobsPage).
extension BackupsPage.Backup: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "id": id
        case "label": label
        case "method": method
        case "started": started
        case "size": size
        case "duration": duration
        case "verify": verify
        case "level": level
        case "drills": drills
        case "retention": retention
        case "copies": copies
        default: nil
        }
    }
}

extension BackupsPage.Profile: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "name": name
        case "path": path
        case "backups": backups
        case "hasBackups": hasBackups
        case "trends": trends
        case "hasTrends": hasTrends
        case "deleted": deleted
        case "hasDeleted": hasDeleted
        default: nil
        }
    }
}
