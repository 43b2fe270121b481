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

/** A page that says why there is no dashboard: `locked` (no DASHBOARD_TOKEN) or `unavailable` (Redis down, a failure). */
function noticePage(state: 'locked' | 'unavailable', message: string): string {
  return shell(`Analytics: ${state}`, `<main class="login"><h1>Analytics dashboard</h1><p class="error" role="alert">${escapeHtml(message)}</p></main>`);
}

export const lockedPage = (message: string): string => noticePage('locked', message);
export const unavailablePage = (message: string): string => noticePage('unavailable', message);

/** A history figure with its previous-period value and change (filled by dashboard.js). */
function historyCard(id: string, label: string): string {
  return `<div class="card"><span class="label">${label}</span><span class="value" id="h-${id}">–</span><span class="change" id="h-${id}-change"></span></div>`;
}

/**
 * A link that downloads a query of the SQL pack over the range shown as CSV (`/api/export`);
 * dashboard.js sets its href. `series` links take the chart's granularity (by hour or day).
 */
function csvLink(query: string, text: string, kind: 'range' | 'series' = 'range'): string {
  return `<a class="csv" data-query="${query}" data-kind="${kind}" download>CSV: ${text}</a>`;
}

/**
 * A history table. `filter`: the dimension its rows filter the history by when clicked (with
 * filters on, its CSV link is that dimension's `filtered-top`); `unfiltered`: the table has no
 * counts per filter and is hidden while one is on.
 */
function historyTable(id: string, caption: string, headers: string[], query: string, options: { wide?: boolean; filter?: string; unfiltered?: boolean } = {}): string {
  const attributes = `${options.wide ? ' class="wide"' : ''}${options.filter ? ` data-filter="${options.filter}"` : ''}${options.unfiltered ? ' data-unfiltered' : ''}`;
  return `<table id="${id}"${attributes}><caption>${caption} ${csvLink(query, 'all')}</caption><thead><tr>${headers.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody></tbody></table>`;
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
<label>Range <select id="preset">
<option value="today">Today</option>
<option value="yesterday">Yesterday</option>
<option value="7d">Last 7 days</option>
<option value="30d">Last 30 days</option>
<option value="this-month">This month</option>
<option value="last-month">Last month</option>
<option value="12mo">Last 12 months</option>
<option value="custom">Custom</option>
</select></label>
<label>From <input type="date" id="from"></label>
<label>To <input type="date" id="to"></label>
<button type="submit">Show</button>
<span class="compare" id="compare-note"></span>
</form>
<p class="error" id="history-error" role="alert" hidden></p>
<div class="filters" id="filters" hidden><span class="label">Filtered by</span><ul id="filter-list"></ul>
<span class="hint">Click a row of a table to filter by it. Filtered: page views, their visitors and conversions (visits and bounces are not kept per combination); the live view is not filtered.</span></div>
<div class="cards">
${historyCard('pageviews', 'Page views')}
${historyCard('visitors', 'Visitors')}
${historyCard('visits', 'Visits')}
${historyCard('bounce', 'Bounce rate')}
${historyCard('ppv', 'Pages per visit')}
</div>
<p class="downloads">Totals as CSV: ${csvLink('traffic', 'traffic')} ${csvLink('visitors', 'visitors')}</p>
<h3><span id="series-title">Per day</span> (dashed: previous period) ${csvLink('traffic', 'per period', 'series')} ${csvLink('visitors', 'visitors per period', 'series')}</h3>
<div class="chart" id="history-chart" aria-label="Page views, visitors and visits per period, with the previous period"></div>
<div class="tables">
${historyTable('h-pages', 'Top pages', ['Page', 'Views'], 'top-pages', { filter: 'page' })}
${historyTable('h-referrers', 'Referrers', ['Referrer', 'Views'], 'top-referrers', { filter: 'referrer' })}
${historyTable('h-entry', 'Entry pages', ['Page', 'Visits', 'Bounce'], 'top-entry-pages', { unfiltered: true })}
${historyTable('h-devices', 'Devices', ['Device', 'Views'], 'top-devices', { filter: 'device' })}
${historyTable('h-campaigns', 'UTM', ['Parameter', 'Value', 'Views'], 'top-campaigns', { filter: 'utm' })}
${historyTable('h-countries', 'Countries', ['Country', 'Views'], 'top-countries', { filter: 'country' })}
${historyTable('h-browsers', 'Browsers', ['Browser', 'Views'], 'top-browsers', { filter: 'browser' })}
${historyTable('h-os', 'Operating systems', ['System', 'Views'], 'top-os', { filter: 'os' })}
</div>
<h3>Goals</h3>
<form id="goal-form" class="range">
<label>Add a goal (a custom event or a page path) <input id="goal-input" required maxlength="1024" placeholder="signup or /thank-you"></label>
<button type="submit">Add</button>
</form>
<p class="error" id="goal-error" role="alert" hidden></p>
<ul id="goal-list" class="goals"></ul>
<div class="tables">
${historyTable('h-goals', 'Conversions, unique converters and rate (of visitors)', ['Goal', 'Conversions', 'Converters', 'Rate', 'vs previous'], 'goals', { wide: true })}
${historyTable('h-goal-sources', 'Per source (rate: of its visitors)', ['Goal', 'Source', 'Conversions', 'Converters', 'Rate'], 'goal-sources', { unfiltered: true, wide: true })}
${historyTable('h-goal-pages', 'Per page (rate: of its visitors)', ['Goal', 'Page', 'Conversions', 'Converters', 'Rate'], 'goal-pages', { unfiltered: true, wide: true })}
</div>
</section>
</main>
<script src="/dashboard/uplot.js"></script>
<script src="/dashboard/app.js"></script>`,
  );
}
