/// The overview page. Only `{{…}}` (escaped) appears; a `{{{…}}}` or `{{&…}}` would insert text
/// unescaped, and a test fails if one is added.
enum OverviewTemplate {
    static let text = """
    \(PageLayout.head(title: "{{verdict}}"))
    <header class="top {{verdictLevel}}">
    <h1>orchestrator</h1>
    <p class="verdict">{{verdict}}</p>
    <p class="meta">schema {{schemaVersion}} · {{generatedAt}}</p>
    </header>
    <main>
    <section class="problems">
    <h2>Needs attention</h2>
    {{#hasProblems}}<ul>{{/hasProblems}}
    {{#problems}}<li class="{{level}}"><span class="text">{{text}}</span> <span class="since">{{since}}</span></li>
    {{/problems}}
    {{#hasProblems}}</ul>{{/hasProblems}}
    {{^problems}}<p class="ok">Nothing needs attention.</p>{{/problems}}
    </section>
    <section>
    <h2>Health</h2>
    <div class="tiles">
    {{#tiles}}<div class="tile {{level}}">
    <div class="label">{{label}}</div>
    <div class="place">{{place}}</div>
    <div class="value">{{value}}</div>
    {{#hasSparkline}}<svg class="spark" viewBox="0 0 100 24" preserveAspectRatio="none" role="img" aria-label="last 24 hours"><polyline points="{{sparkline}}"/></svg>{{/hasSparkline}}
    <div class="note">{{note}}</div>
    </div>
    {{/tiles}}
    {{^tiles}}<p>No health samples yet (the health kind stores them).</p>{{/tiles}}
    </div>
    </section>
    <section>
    <h2>Services</h2>
    {{#hasServices}}<div class="scroll"><table><thead><tr><th>service</th><th>check</th><th>host</th><th>state</th><th>checked</th></tr></thead><tbody>{{/hasServices}}
    {{#services}}<tr class="{{level}}"><td>{{name}}</td><td>{{check}}</td><td>{{host}}</td><td class="wrap">{{state}}</td><td>{{since}}</td></tr>
    {{/services}}
    {{#hasServices}}</tbody></table></div>{{/hasServices}}
    {{^hasServices}}<p>No service checks (add HTTP, TCP or systemd checks under health:).</p>{{/hasServices}}
    </section>
    <section class="cols">
    <div>
    <h2>Queue</h2>
    <dl>
    <dt>queued</dt><dd>{{queued}}</dd>
    <dt>running</dt><dd>{{running}}</dd>
    <dt>oldest queued</dt><dd>{{oldestQueued}}</dd>
    <dt>finished in 24 h</dt><dd>{{finished}}</dd>
    <dt>failed runs in 24 h</dt><dd>{{failedRuns}}</dd>
    </dl>
    </div>
    <div>
    <h2>Workers</h2>
    {{#hasWorkers}}<table><thead><tr><th>worker</th><th>queues</th><th>running</th><th>heartbeat</th></tr></thead><tbody>{{/hasWorkers}}
    {{#workers}}<tr class="{{level}}"><td>{{id}}</td><td>{{queues}}</td><td>{{running}}</td><td>{{heartbeat}}</td></tr>
    {{/workers}}
    {{#hasWorkers}}</tbody></table>{{/hasWorkers}}
    {{^workers}}<p class="warning">No worker alive.</p>{{/workers}}
    </div>
    </section>
    <section>
    <h2>Backups</h2>
    {{#hasBackups}}<div class="scroll"><table><thead><tr><th>profile</th><th>verified backup</th><th>size</th><th>took</th><th>passed drill</th><th>RTO</th><th>RPO</th></tr></thead><tbody>{{/hasBackups}}
    {{#backups}}<tr class="{{level}}"><td>{{profile}}</td><td>{{verified}}</td><td>{{size}}</td><td>{{duration}}</td><td>{{drill}}</td><td>{{rto}}</td><td>{{rpo}}</td></tr>
    {{/backups}}
    {{#hasBackups}}</tbody></table></div>{{/hasBackups}}
    {{^backups}}<p>No backup profile configured.</p>{{/backups}}
    </section>
    <section>
    <h2>WAL archive</h2>
    {{#hasWal}}<ul>{{/hasWal}}
    {{#wal}}<li class="{{level}}">{{text}}</li>
    {{/wal}}
    {{#hasWal}}</ul>{{/hasWal}}
    {{^wal}}<p>No WAL archive sample.</p>{{/wal}}
    </section>
    <section>
    <h2>Alerts</h2>
    <p><span class="badge critical">{{alertsCritical}} critical</span> <span class="badge warning">{{alertsWarning}} warning</span></p>
    {{#hasAlerts}}<ul>{{/hasAlerts}}
    {{#alerts}}<li class="{{severity}}"><span class="text">{{summary}}</span> <span class="place">{{place}}</span> <span class="since">{{since}}</span></li>
    {{/alerts}}
    {{#hasAlerts}}</ul>{{/hasAlerts}}
    </section>
    </main>
    </body>
    </html>
    """
}
