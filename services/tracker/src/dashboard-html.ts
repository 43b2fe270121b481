/** The dashboard's HTML shells. Scripts and styles are files (CSP `self`); every text from a setting is escaped. */

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function shell(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/dashboard/uplot.css">
<link rel="stylesheet" href="/dashboard/app.css">
</head>
<body>
${body}
</body>
</html>
`;
}

export function loginPage(error?: string): string {
  return shell(
    'Analytics: log in',
    `<main class="login">
<h1>Analytics dashboard</h1>
<form method="post" action="/dashboard/login">
<label for="token">Dashboard token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
</form>
<p class="hint">The token is the tracker's <code>DASHBOARD_TOKEN</code>.</p>
</main>`,
  );
}

export function lockedPage(message: string): string {
  return shell('Analytics: locked', `<main class="login"><h1>Analytics dashboard</h1><p class="error" role="alert">${escapeHtml(message)}</p></main>`);
}

/** The page; dashboard.js fills it from /api/live (every 5 s) and /api/history. */
export function dashboardPage(sites: readonly string[]): string {
  const options = sites.map((s) => `<option value="${escapeHtml(s)}">${escapeHtml(s)}</option>`).join('');
  return shell(
    'Analytics',
    `<header>
<h1>Analytics</h1>
<label class="site">Site <select id="site">${options}</select></label>
<form method="post" action="/dashboard/logout"><button type="submit" class="link">Log out</button></form>
</header>
<main>
<section aria-labelledby="live-title">
<h2 id="live-title">Live <small id="live-updated"></small></h2>
<div class="cards">
<div class="card"><span class="label">Visitors now (5 min)</span><span class="value" id="live-visitors">–</span></div>
<div class="card"><span class="label">Visits in progress</span><span class="value" id="live-visits-open">–</span></div>
<div class="card"><span class="label">Visits (30 min)</span><span class="value" id="live-visits">–</span></div>
<div class="card"><span class="label">Page views (30 min)</span><span class="value" id="live-pageviews">–</span></div>
<div class="card muted"><span class="label">Bot hits ignored (60 min)</span><span class="value" id="live-bots">–</span></div>
</div>
<div class="chart" id="live-chart" aria-label="Page views per minute, last 60 minutes"></div>
<div class="tables">
<table id="live-pages"><caption>Top pages (30 min)</caption><thead><tr><th>Page</th><th>Views</th></tr></thead><tbody></tbody></table>
<table id="live-referrers"><caption>Top referrers (30 min)</caption><thead><tr><th>Referrer</th><th>Views</th></tr></thead><tbody></tbody></table>
<table id="live-events"><caption>Custom events (5 min)</caption><thead><tr><th>Event</th><th>Count</th></tr></thead><tbody></tbody></table>
</div>
</section>
<section aria-labelledby="history-title">
<h2 id="history-title">History <small id="history-status"></small></h2>
<form id="range" class="range">
<label>From <input type="date" id="from" required></label>
<label>To <input type="date" id="to" required></label>
<button type="submit">Show</button>
</form>
<div class="cards">
<div class="card"><span class="label">Page views</span><span class="value" id="h-pageviews">–</span></div>
<div class="card"><span class="label">Visitors</span><span class="value" id="h-visitors">–</span></div>
<div class="card"><span class="label">Visits</span><span class="value" id="h-visits">–</span></div>
<div class="card"><span class="label">Bounce rate</span><span class="value" id="h-bounce">–</span></div>
<div class="card"><span class="label">Pages per visit</span><span class="value" id="h-ppv">–</span></div>
</div>
<h3>Last 48 hours</h3>
<div class="chart" id="hourly-chart" aria-label="Page views, visitors and visits per hour"></div>
<h3>Last 30 days</h3>
<div class="chart" id="daily-chart" aria-label="Page views, visitors and visits per day"></div>
<div class="tables">
<table id="h-pages"><caption>Top pages</caption><thead><tr><th>Page</th><th>Views</th></tr></thead><tbody></tbody></table>
<table id="h-referrers"><caption>Referrers</caption><thead><tr><th>Referrer</th><th>Views</th></tr></thead><tbody></tbody></table>
<table id="h-entry"><caption>Entry pages</caption><thead><tr><th>Page</th><th>Visits</th><th>Bounce</th></tr></thead><tbody></tbody></table>
<table id="h-devices"><caption>Devices</caption><thead><tr><th>Device</th><th>Views</th></tr></thead><tbody></tbody></table>
<table id="h-campaigns"><caption>UTM</caption><thead><tr><th>Parameter</th><th>Value</th><th>Views</th></tr></thead><tbody></tbody></table>
</div>
</section>
</main>
<script src="/dashboard/uplot.js"></script>
<script src="/dashboard/app.js"></script>`,
  );
}
