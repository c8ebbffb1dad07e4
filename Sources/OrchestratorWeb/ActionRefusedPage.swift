import Mustache

/// What a browser sees when an action it posted was refused (the job was in the wrong state):
/// the cause and the way back. The outcome is recorded too, so the job's page lists it.
enum ActionRefusedPage {
    static let text = """
    \(PageLayout.head(title: "action refused"))
    <header class="top warning"><h1>Action refused</h1></header>
    <main><section><p>{{outcome}}</p><p><a href="{{back}}">Back</a></p></section></main>
    </body>
    </html>
    """

    static let template = try! MustacheTemplate(string: text)
}
