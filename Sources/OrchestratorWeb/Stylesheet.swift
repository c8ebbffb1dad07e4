/// The one stylesheet, served from `/static/style.css` (the CSP allows styles from 'self' only,
/// so no page carries inline style). One column on a phone, a grid from 700 px on.
enum Stylesheet {
    static let path = "/static/style.css"

    static let text = """
    :root { --ok: #1a7f37; --warning: #9a6700; --critical: #cf222e; --unknown: #6e7781; --line: #d0d7de; font-family: system-ui, sans-serif; }
    * { box-sizing: border-box; }
    body { margin: 0; color: #1f2328; background: #f6f8fa; font-size: 15px; line-height: 1.4; }
    header.top { padding: .75rem 1rem; color: #fff; display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: baseline; }
    header.top.ok { background: var(--ok); } header.top.warning { background: var(--warning); } header.top.critical { background: var(--critical); }
    header h1 { font-size: 1.1rem; margin: 0; } .verdict { font-weight: 600; margin: 0; } .meta { margin: 0; opacity: .85; font-size: .85rem; }
    main { padding: .5rem 1rem 2rem; max-width: 1400px; margin: 0 auto; }
    section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; margin: .75rem 0; overflow-wrap: anywhere; }
    h2 { font-size: 1rem; margin: .25rem 0 .5rem; }
    ul { margin: 0; padding-left: 1.1rem; } li { margin: .15rem 0; }
    li.critical, tr.critical td:first-child, .badge.critical { color: var(--critical); } li.warning, tr.warning td:first-child, .badge.warning, p.warning { color: var(--warning); }
    .since, .place, .note { color: var(--unknown); font-size: .85rem; }
    .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: .5rem; }
    .tile { border: 1px solid var(--line); border-left: 5px solid var(--ok); border-radius: 4px; padding: .4rem .5rem; min-width: 0; }
    .tile.warning { border-left-color: var(--warning); } .tile.critical { border-left-color: var(--critical); } .tile.unknown { border-left-color: var(--unknown); }
    .tile .label { font-size: .8rem; font-weight: 600; } .tile .value { font-size: 1.3rem; font-weight: 600; }
    .tile.warning .value { color: var(--warning); } .tile.critical .value { color: var(--critical); }
    svg.spark { width: 100%; height: 28px; display: block; }
    svg.spark polyline { fill: none; stroke: #0969da; stroke-width: 1.2; vector-effect: non-scaling-stroke; }
    table { border-collapse: collapse; width: 100%; font-size: .9rem; } th, td { text-align: left; padding: .2rem .4rem; border-bottom: 1px solid var(--line); }
    .scroll { overflow-x: auto; }
    .scroll table { overflow-wrap: normal; } .scroll th, .scroll td { white-space: nowrap; max-width: 24rem; overflow: hidden; text-overflow: ellipsis; }
    .scroll td.error, .scroll td.wrap { white-space: normal; min-width: 14rem; overflow-wrap: anywhere; }
    dl { display: grid; grid-template-columns: auto 1fr; gap: .15rem .75rem; margin: 0; } dt { color: var(--unknown); } dd { margin: 0; }
    .badge { font-weight: 600; margin-right: .75rem; }
    form.login { max-width: 22rem; margin: 3rem auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem; }
    form.login input, form.login button { width: 100%; font-size: 1rem; padding: .4rem; margin: .3rem 0; }
    .error { color: var(--critical); }
    nav.site { display: flex; flex-wrap: wrap; gap: 0 1rem; padding: .4rem 1rem; background: #24292f; }
    nav.site a { color: #fff; text-decoration: none; font-weight: 600; padding: .2rem 0; } nav.site a:hover { text-decoration: underline; }
    form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; }
    form.filters label { display: flex; flex-direction: column; font-size: .85rem; color: var(--unknown); min-width: 9rem; flex: 1 1 9rem; }
    form.filters select, form.filters input, form.filters button { font-size: 1rem; padding: .3rem; min-width: 0; }
    tr.failed td:first-child, tr.failed td:nth-child(4) { color: var(--critical); } tr.cancelled td:nth-child(4) { color: var(--unknown); }
    pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 4px; padding: .5rem; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; font-size: .85rem; margin: .25rem 0 .5rem; }
    h3 { font-size: .9rem; margin: .5rem 0 .2rem; }
    .pager { margin: .5rem 0 0; }
    svg.chart { width: 100%; height: auto; display: block; margin: .25rem 0 .5rem; }
    svg.chart .axis { fill: none; stroke: #8c959f; stroke-width: 1; }
    svg.chart text { font-size: 11px; fill: #57606a; } svg.chart text.level.warning { fill: var(--warning); } svg.chart text.level.critical { fill: var(--critical); }
    svg.chart line.level { stroke-width: 1.2; stroke-dasharray: 6 4; } svg.chart line.warning { stroke: var(--warning); } svg.chart line.critical { stroke: var(--critical); }
    svg.chart polyline.line { fill: none; stroke-width: 1.6; } svg.chart polygon.band { stroke: none; opacity: .2; }
    svg.chart polyline.s0 { stroke: #0969da; } svg.chart .band.s0, svg.chart .dot.s0, svg.chart text.legend.s0 { fill: #0969da; }
    svg.chart polyline.s1 { stroke: #8250df; } svg.chart .band.s1, svg.chart .dot.s1, svg.chart text.legend.s1 { fill: #8250df; }
    .ranges a, .ranges strong { margin-right: .6rem; }
    td.value { font-variant-numeric: tabular-nums; }
    .actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0; } .actions button { font-size: 1rem; padding: .3rem .8rem; }
    article.alert { border-top: 1px solid var(--line); padding: .4rem 0; } article.alert p { margin: .2rem 0; }
    @media (min-width: 700px) { .cols { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem; } .tiles { grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); } }
    """
}
