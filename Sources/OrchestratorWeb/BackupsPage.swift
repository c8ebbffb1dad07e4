import Backups
import Foundation
import Mustache

/// `/backups`. Every string is HTML-escaped by the template (`{{…}}`); none is inserted raw.
struct BackupsPage {
    struct Backup { let id: Int64; let label: String; let method: String; let started: String; let size: String; let duration: String; let verify: String; let level: String; let drills: String }
    struct Profile { let name: String; let backups: [Backup]; let hasBackups: Bool }

    let profiles: [Profile]
    let hasProfiles: Bool
    let generatedAt: String

    init(_ view: BackupCatalogView) {
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
                              level: verify == "passed" ? "ok" : (verify == "failed" ? "critical" : "warning"), drills: drillText.isEmpty ? "–" : drillText)
            }
            return Profile(name: profile.profile, backups: backups, hasBackups: !backups.isEmpty)
        }
        hasProfiles = !profiles.isEmpty
        generatedAt = DisplayText.time(now)
    }

    static let text = """
    \(PageLayout.head(title: "backups"))
    <header class="top ok"><h1>Backups</h1><p class="meta">{{generatedAt}}</p></header>
    <main>
    {{#profiles}}<section>
    <h2>{{name}}</h2>
    {{#hasBackups}}<div class="scroll"><table><thead><tr><th>id</th><th>label</th><th>method</th><th>started</th><th>size</th><th>took</th><th>verification</th><th>drills</th></tr></thead><tbody>{{/hasBackups}}
    {{#backups}}<tr class="{{level}}"><td>{{id}}</td><td>{{label}}</td><td>{{method}}</td><td>{{started}}</td><td>{{size}}</td><td>{{duration}}</td><td>{{verify}}</td><td>{{drills}}</td></tr>
    {{/backups}}
    {{#hasBackups}}</tbody></table></div>{{/hasBackups}}
    {{^hasBackups}}<p>No backup in the catalog.</p>{{/hasBackups}}
    </section>
    {{/profiles}}
    {{^hasProfiles}}<section><p>No backup profile configured.</p></section>{{/hasProfiles}}
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
        default: nil
        }
    }
}

extension BackupsPage.Profile: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "name": name
        case "backups": backups
        case "hasBackups": hasBackups
        default: nil
        }
    }
}
