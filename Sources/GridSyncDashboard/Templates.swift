/// The dashboard's templates and style sheet, compiled into the binary: a centre that is
/// offline gets every byte of every page from the daemon. Mustache escapes what `{{…}}` inserts;
/// `{{{…}}}` is used only for SVG built by ``Charts`` (whose text is escaped there).
public enum Templates {
    static let all: [String: String] = [
        "head": head, "foot": foot, "overview": overview, "grouped": grouped, "request": request,
        "nodes": nodes, "node": node, "login": login, "message": message,
    ]

    static let head = """
        <!doctype html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{pageTitle}} · {{t.product}}</title>
        <link rel="stylesheet" href="/assets/style.css">
        </head>
        <body>
        <header>
        <strong class="brand">{{t.product}}</strong>
        <nav aria-label="{{t.nav}}"><ul>
        <li><a href="/"{{#isOverview}} aria-current="page"{{/isOverview}}>{{t.overview}}</a></li>
        <li><a href="/by/grid"{{#isGrid}} aria-current="page"{{/isGrid}}>{{t.byGrid}}</a></li>
        <li><a href="/by/building"{{#isBuilding}} aria-current="page"{{/isBuilding}}>{{t.byBuilding}}</a></li>
        <li><a href="/by/category"{{#isCategory}} aria-current="page"{{/isCategory}}>{{t.byCategory}}</a></li>
        <li><a href="/by/service"{{#isService}} aria-current="page"{{/isService}}>{{t.byService}}</a></li>
        <li><a href="/nodes"{{#isNodes}} aria-current="page"{{/isNodes}}>{{t.nodes}}</a></li>
        </ul></nav>
        <div class="who">{{#user}}{{t.signedInAs}} {{user}} <form method="post" action="/logout"><button type="submit">{{t.signOut}}</button></form>{{/user}}{{^user}}<a href="/login">{{t.signIn}}</a>{{/user}}</div>
        </header>
        <main>
        """

    static let foot = """
        </main>
        <footer>{{t.readOnly}} · {{nodeName}} · {{t.asOf}} {{generated}}</footer>
        </body>
        </html>
        """

    static let monthPicker = """
        <form class="month" method="get" action="{{action}}">
        <a href="{{action}}?month={{previousMonth}}">‹ {{t.previousMonth}}</a>
        <label for="month">{{t.month}}</label> <input id="month" name="month" type="month" value="{{month}}" required>
        <button type="submit">{{t.show}}</button>
        <a href="{{action}}?month={{nextMonth}}">{{t.nextMonth}} ›</a>
        </form>
        """

    static let overview = """
        {{>head}}
        <h1>{{heading}}</h1>
        \(monthPicker)
        <section aria-labelledby="rates-h"><h2 id="rates-h">{{t.rates}}</h2>
        <div class="cards">
        {{#rates}}<div class="card" id="rate-{{key}}"><h3>{{name}}</h3><p class="big" data-numerator="{{numerator}}" data-denominator="{{denominator}}">{{percent}}</p><p class="sub">{{numerator}} / {{denominator}}</p><p class="change {{trend}}">{{t.vsLastMonth}} {{change}}</p></div>{{/rates}}
        </div></section>
        <section aria-labelledby="trend-h"><h2 id="trend-h">{{t.trend}}</h2>
        {{{trendChart}}}
        <table class="figures" id="trend-table"><caption>{{t.trendTable}}</caption>
        <thead><tr><th scope="col">{{t.month}}</th>{{#rateNames}}<th scope="col">{{.}}</th>{{/rateNames}}<th scope="col">{{t.total}}</th></tr></thead>
        <tbody>{{#series}}<tr><th scope="row">{{month}}</th>{{#cells}}<td>{{.}}</td>{{/cells}}<td>{{total}}</td></tr>{{/series}}</tbody>
        </table></section>
        <section aria-labelledby="status-h"><h2 id="status-h">{{t.byStatus}}</h2>
        {{{statusChart}}}
        <table class="figures" id="status-table"><thead><tr><th scope="col">{{t.status}}</th><th scope="col">{{t.count}}</th></tr></thead>
        <tbody>{{#statuses}}<tr><th scope="row">{{name}}</th><td data-status="{{key}}">{{count}}</td></tr>{{/statuses}}
        <tr><th scope="row">{{t.total}}</th><td id="month-total">{{monthTotal}}</td></tr></tbody></table>
        </section>
        <section aria-labelledby="overdue-h"><h2 id="overdue-h">{{t.overdueList}} <span class="count" id="overdue-count">{{overdueCount}}</span></h2>
        {{#has_overdue}}<table class="list" id="overdue-table"><thead><tr><th scope="col">{{t.id}}</th><th scope="col">{{t.daysOverdue}}</th><th scope="col">{{t.due}}</th><th scope="col">{{t.category}}</th><th scope="col">{{t.place}}</th><th scope="col">{{t.status}}</th>{{#user}}<th scope="col">{{t.title}}</th>{{/user}}</tr></thead>
        <tbody>{{/has_overdue}}{{#overdue}}<tr><td><a href="/requests/{{id}}">{{shortID}}</a></td><td class="late">{{days}}</td><td>{{due}}</td><td>{{category}}</td><td>{{place}}</td><td>{{status}}</td>{{#user}}<td>{{title}}</td>{{/user}}</tr>{{/overdue}}{{#has_overdue}}</tbody></table>{{/has_overdue}}
        {{^overdue}}<p>{{t.overdueNone}}</p>{{/overdue}}
        {{#overdueMore}}<p class="sub">{{t.overdueMore}} {{overdueCount}}</p>{{/overdueMore}}
        </section>
        {{>foot}}
        """

    static let grouped = """
        {{>head}}
        <h1>{{heading}}</h1>
        \(monthPicker)
        <p><a class="download" href="{{csvLink}}">{{t.csv}}</a></p>
        {{#hasRows}}{{{chart}}}{{/hasRows}}
        <table class="figures" id="group-table"><caption>{{t.figures}}</caption>
        <thead><tr><th scope="col">{{groupHeader}}</th><th scope="col">{{t.total}}</th><th scope="col">{{overdueHeader}}</th>{{#rateNames}}<th scope="col">{{.}}</th>{{/rateNames}}<th scope="col">{{t.responseMedian}}</th>{{#served}}<th scope="col">{{servedHeader}}</th>{{/served}}</tr></thead>
        <tbody>{{#rows}}<tr{{#isTotal}} class="total"{{/isTotal}}><th scope="row">{{group}}</th><td>{{total}}</td><td>{{overdue}}</td>{{#rates}}<td>{{.}}</td>{{/rates}}<td>{{responseMedian}}</td>{{#served}}<td>{{servedCount}}</td>{{/served}}</tr>{{/rows}}</tbody>
        </table>
        {{^hasRows}}<p>{{t.noRequests}}</p>{{/hasRows}}
        {{>foot}}
        """

    static let request = """
        {{>head}}
        <h1>{{t.detail}} <code>{{shortID}}</code></h1>
        <table class="fields"><caption>{{t.fields}}</caption><tbody>
        {{#fields}}<tr><th scope="row">{{label}}</th><td>{{value}}</td></tr>{{/fields}}
        </tbody></table>
        <h2>{{t.conflicts}}</h2>
        {{#has_conflicts}}<table class="list"><thead><tr><th scope="col">{{t.id}}</th><th scope="col">{{t.field}}</th><th scope="col">{{t.values}}</th></tr></thead><tbody>{{/has_conflicts}}
        {{#conflicts}}<tr><td><code>{{id}}</code></td><td>{{field}}</td><td>{{values}}</td></tr>{{/conflicts}}
        {{#has_conflicts}}</tbody></table>{{/has_conflicts}}{{^conflicts}}<p>{{t.none}}</p>{{/conflicts}}
        <h2>{{t.notes}}</h2>
        {{#has_notes}}<table class="list"><thead><tr><th scope="col">{{t.time}}</th><th scope="col">{{t.author}}</th><th scope="col">{{t.text}}</th></tr></thead><tbody>{{/has_notes}}
        {{#notes}}<tr><td>{{time}}</td><td>{{author}}</td><td>{{text}}</td></tr>{{/notes}}
        {{#has_notes}}</tbody></table>{{/has_notes}}{{^notes}}<p>{{t.none}}</p>{{/notes}}
        <h2>{{t.history}}</h2>
        <table class="list"><thead><tr><th scope="col">{{t.time}}</th><th scope="col">{{t.node}}</th><th scope="col">{{t.field}}</th><th scope="col">{{t.value}}</th></tr></thead>
        <tbody>{{#history}}<tr><td>{{time}}</td><td>{{node}}</td><td>{{field}}</td><td>{{value}}</td></tr>{{/history}}</tbody></table>
        {{>foot}}
        """

    static let nodes = """
        {{>head}}
        <h1>{{t.nodesTitle}}</h1>
        {{#has_nodes}}<table class="list" id="nodes-table"><thead><tr><th scope="col">{{t.name}}</th><th scope="col">{{t.role}}</th><th scope="col">{{t.place}}</th><th scope="col">{{t.lastSeen}}</th><th scope="col">{{t.toSend}}</th><th scope="col">{{t.toReceive}}</th><th scope="col">{{t.quarantined}}</th><th scope="col">{{t.refused}}</th><th scope="col">{{t.openConflicts}}</th></tr></thead><tbody>{{/has_nodes}}
        {{#nodes}}<tr class="{{#lagging}}lagging{{/lagging}}{{#revoked}} revoked{{/revoked}}" data-node="{{id}}"><th scope="row"><a href="/nodes/{{id}}">{{name}}</a> <code>{{shortID}}</code>{{#connected}} <span class="badge on">{{t.connected}}</span>{{/connected}}{{#revoked}} <span class="badge">{{t.revoked}}</span>{{/revoked}}</th><td>{{role}}</td><td>{{place}}</td><td>{{lastSeen}}{{#lagging}} <span class="badge warn">{{t.lagging}}</span>{{/lagging}}</td><td>{{toSend}}</td><td>{{toReceive}}</td><td><a href="/nodes/{{id}}#quarantine">{{quarantined}}</a></td><td>{{refused}}</td><td><a href="/nodes/{{id}}#conflicts">{{openConflicts}}</a></td></tr>{{/nodes}}
        {{#has_nodes}}</tbody></table>{{/has_nodes}}{{^nodes}}<p>{{t.noNodes}}</p>{{/nodes}}
        {{>foot}}
        """

    static let node = """
        {{>head}}
        <h1>{{t.nodeTitle}}: {{name}} <code>{{shortID}}</code></h1>
        <table class="fields"><tbody>
        <tr><th scope="row">{{t.role}}</th><td>{{role}}</td></tr>
        <tr><th scope="row">{{t.place}}</th><td>{{place}}</td></tr>
        <tr><th scope="row">{{t.lastSync}}</th><td>{{lastSync}}</td></tr>
        <tr><th scope="row">{{t.lastChange}}</th><td>{{lastChange}}</td></tr>
        <tr><th scope="row">{{t.toSend}}</th><td>{{toSend}}</td></tr>
        <tr><th scope="row">{{t.toReceive}}</th><td>{{toReceive}}</td></tr>
        <tr><th scope="row">{{t.refused}}</th><td>{{refused}}</td></tr>
        </tbody></table>
        <h2 id="quarantine">{{t.quarantineList}}</h2>
        {{#has_quarantine}}<table class="list"><thead><tr><th scope="col">{{t.receivedAt}}</th><th scope="col">{{t.reason}}</th><th scope="col">{{t.changes}}</th></tr></thead><tbody>{{/has_quarantine}}
        {{#quarantine}}<tr><td>{{receivedAt}}</td><td>{{reason}}</td><td>{{changes}}</td></tr>{{/quarantine}}
        {{#has_quarantine}}</tbody></table>{{/has_quarantine}}{{^quarantine}}<p>{{t.none}}</p>{{/quarantine}}
        <h2 id="conflicts">{{t.conflictList}}</h2>
        {{#has_conflicts}}<table class="list"><thead><tr><th scope="col">{{t.id}}</th><th scope="col">{{t.record}}</th><th scope="col">{{t.field}}</th></tr></thead><tbody>{{/has_conflicts}}
        {{#conflicts}}<tr><td><code>{{id}}</code></td><td>{{#isRequest}}<a href="/requests/{{record}}">{{shortRecord}}</a>{{/isRequest}}{{^isRequest}}{{shortRecord}}{{/isRequest}}</td><td>{{field}}</td></tr>{{/conflicts}}
        {{#has_conflicts}}</tbody></table>{{/has_conflicts}}{{^conflicts}}<p>{{t.none}}</p>{{/conflicts}}
        {{>foot}}
        """

    static let login = """
        {{>head}}
        <h1>{{t.signInTitle}}</h1>
        <p>{{t.signInWhy}}</p>
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        {{#noAccounts}}<p class="error">{{t.noAccounts}}</p>{{/noAccounts}}
        <form class="login" method="post" action="/login">
        <input type="hidden" name="next" value="{{next}}">
        <p><label for="name">{{t.account}}</label><br><input id="name" name="name" autocomplete="username" required maxlength="64"></p>
        <p><label for="password">{{t.password}}</label><br><input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"></p>
        <p><button type="submit">{{t.signIn}}</button></p>
        </form>
        {{>foot}}
        """

    static let message = """
        {{>head}}
        <h1>{{heading}}</h1>
        <p role="alert">{{message}}</p>
        <p><a href="/">{{t.back}}</a></p>
        {{>foot}}
        """

    /// The font stack names the CJK fonts a Debian, Windows or macOS machine has, so Chinese
    /// never falls back to boxes.
    public static let fontStack = "\"Noto Sans CJK SC\", \"WenQuanYi Zen Hei\", \"Microsoft YaHei\", \"PingFang SC\", \"Source Han Sans SC\", sans-serif"

    static let css = """
        :root { --ink: #1f2933; --muted: #616e7c; --line: #d9dee4; --bg: #f7f8fa; --accent: #b7282e; }
        * { box-sizing: border-box; }
        body { margin: 0; font-family: \(fontStack); color: var(--ink); background: var(--bg); font-size: 15px; line-height: 1.5; }
        header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .6rem 1.2rem; background: var(--accent); color: #fff; }
        header a { color: #fff; }
        .brand { font-size: 1.1rem; }
        nav ul { display: flex; flex-wrap: wrap; gap: .9rem; list-style: none; margin: 0; padding: 0; }
        nav a { text-decoration: none; padding: .2rem .1rem; }
        nav a[aria-current="page"] { border-bottom: 2px solid #fff; font-weight: bold; }
        .who { margin-left: auto; }
        .who form { display: inline; }
        main { max-width: 1100px; margin: 0 auto; padding: 1rem 1.2rem 2rem; }
        h1 { font-size: 1.5rem; margin: .4rem 0 .8rem; }
        h2 { font-size: 1.15rem; margin: 1.6rem 0 .6rem; }
        section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .4rem 1rem 1rem; margin-bottom: 1rem; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: .8rem; }
        .card { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .9rem; background: var(--bg); }
        .card h3 { margin: 0; font-size: 1rem; color: var(--muted); }
        .big { font-size: 2rem; margin: .1rem 0; font-weight: bold; }
        .sub { color: var(--muted); margin: 0; }
        .change { margin: .2rem 0 0; }
        .change.up { color: #1b7f3b; } .change.down { color: var(--accent); }
        table { border-collapse: collapse; width: 100%; margin: .6rem 0; background: #fff; }
        caption { text-align: left; color: var(--muted); padding: .3rem 0; }
        th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
        thead th { background: #eef1f4; }
        .figures td { text-align: right; font-variant-numeric: tabular-nums; }
        tr.total th, tr.total td { font-weight: bold; }
        .late { color: var(--accent); font-weight: bold; }
        .count { color: var(--accent); }
        tr.lagging { background: #fff3e0; }
        tr.revoked { color: var(--muted); }
        .badge { display: inline-block; font-size: .8rem; padding: 0 .4rem; border-radius: 4px; background: #e4e7eb; }
        .badge.on { background: #d3f0dc; } .badge.warn { background: #ffd8a8; }
        .chart { width: 100%; max-width: 760px; height: auto; display: block; }
        .chart .grid { stroke: var(--line); } .chart .axis, .chart .label, .chart .value { font-size: 12px; fill: var(--muted); font-family: \(fontStack); }
        .chart .series { fill: none; stroke-width: 2.5; } .chart .bar { fill: #3f6fb5; }
        .s1 { stroke: #3f6fb5; fill: #3f6fb5; } .s2 { stroke: #1b7f3b; fill: #1b7f3b; } .s3 { stroke: #b7282e; fill: #b7282e; } .s4 { stroke: #c77c02; fill: #c77c02; }
        .legend { display: flex; gap: 1.2rem; list-style: none; padding: 0; margin: .3rem 0; }
        .swatch { display: inline-block; width: 1rem; height: .6rem; margin-right: .3rem; border-top: 3px solid; }
        .swatch.s1 { border-color: #3f6fb5; } .swatch.s2 { border-color: #1b7f3b; } .swatch.s3 { border-color: #b7282e; } .swatch.s4 { border-color: #c77c02; }
        form.month { display: flex; flex-wrap: wrap; gap: .6rem; align-items: center; margin-bottom: 1rem; }
        .error { color: var(--accent); }
        form.login input { font-size: 1rem; padding: .3rem; width: 18rem; max-width: 100%; }
        button { font: inherit; padding: .2rem .8rem; }
        footer { color: var(--muted); text-align: center; padding: 1rem; font-size: .85rem; }
        a.download { font-weight: bold; }
        """
}
