/// What every page shares: the document head and the navigation bar. A new page adds its link
/// to `links`; the templates take `head` and `navigation` as fixed text (no database value).
enum PageLayout {
    static let links: [(path: String, label: String)] = [("/", "Overview"), ("/jobs", "Jobs"), ("/backups", "Backups"), ("/health", "Health"),
                                                         ("/maintenance", "Maintenance"), ("/alerts", "Alerts")]

    static let navigation = "<nav class=\"site\">" + links.map { "<a href=\"\($0.path)\">\($0.label)</a>" }.joined() + "</nav>"

    /// The head up to `<body>`; `title` is a template fragment (escaped variables only).
    static func head(title: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>orchestrator · \(title)</title>
        <link rel="stylesheet" href="\(Stylesheet.path)">
        <link rel="icon" href="data:,">
        </head>
        <body>
        \(navigation)
        """
    }
}
