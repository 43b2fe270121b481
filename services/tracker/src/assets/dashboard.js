/* Dashboard client: live view from /api/live every 5 s, history of the range and filters in
   the URL (and its previous period) from /api/history, CSV links to /api/export. Text goes
   into the page with textContent only. */
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var siteSelect = $('site');
  var charts = {};
  var fmt = new Intl.NumberFormat('en');
  var params = new URLSearchParams(location.search);
  if (params.get('site')) siteSelect.value = params.get('site');

  function site() { return siteSelect.value; }
  function text(id, value) { $(id).textContent = value; }
  function number(n) { return n === null || n === undefined ? '–' : fmt.format(n); }
  function percent(x) { return x === null || x === undefined ? '–' : (x * 100).toFixed(1) + '%'; }

  function fetchJson(url, method) {
    return fetch(url, { credentials: 'same-origin', method: method || 'GET' }).then(function (res) {
      if (res.status === 401) { location.href = '/dashboard'; throw new Error('unauthorized'); }
      return res.json().then(function (body) {
        if (!res.ok) throw new Error(body.message || body.error || String(res.status));
        return body;
      });
    });
  }

  /** `filterOf(row)`: the [dimension, value] a click on the row's value (the cell before its count) filters by. */
  function fillTable(id, rows, columns, emptyText, filterOf) {
    var body = $(id).querySelector('tbody');
    body.replaceChildren();
    rows.forEach(function (row) {
      var tr = document.createElement('tr');
      columns.forEach(function (col, i) {
        var td = document.createElement('td');
        var filter = i === columns.length - 2 && filterOf ? filterOf(row) : null;
        if (filter && view.filters[filter[0]] === undefined) {
          var button = document.createElement('button');
          button.type = 'button';
          button.className = 'filter';
          button.textContent = col(row);
          button.title = 'Filter by ' + filter[0] + ' ' + filter[1];
          button.addEventListener('click', function () { setFilter(filter[0], filter[1]); });
          td.appendChild(button);
        } else {
          td.textContent = col(row);
        }
        if (i > 0 && columns.length - 1 === i) td.className = 'num';
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    if (rows.length === 0) {
      var tr = document.createElement('tr');
      var td = document.createElement('td');
      td.colSpan = columns.length;
      td.className = 'empty';
      td.textContent = emptyText || 'No data yet';
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }

  function chart(id, series, data) {
    var el = $(id);
    var width = Math.max(280, el.clientWidth);
    var height = width < 600 ? 180 : 240;
    if (charts[id]) { charts[id].setData(data); charts[id].setSize({ width: width, height: height }); return; }
    var colors = ['#2563eb', '#16a34a', '#d97706'];
    charts[id] = new uPlot({
      width: width,
      height: height,
      series: [{}].concat(series.map(function (label, i) {
        // Series past the third are the previous period: the same colours, dashed.
        return { label: label, stroke: colors[i % 3], width: i < 3 ? 2 : 1, dash: i < 3 ? undefined : [6, 4], fill: i === 0 ? 'rgba(37,99,235,0.08)' : undefined };
      })),
      axes: [{}, { size: 50 }],
      scales: { x: { time: true } },
      legend: { live: false },
    }, data, el);
  }

  function times(rows, key) { return rows.map(function (r) { return Date.parse(r[key]) / 1000; }); }
  function column(rows, key) { return rows.map(function (r) { return r[key]; }); }
  var value = function (r) { return r.value; };
  var regionNames = typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(['en'], { type: 'region' }) : null;
  /** "Germany (DE)" for a two-letter code the browser can name, else the value as stored. */
  function countryName(r) {
    if (!regionNames || !/^[A-Z]{2}$/.test(r.value)) return r.value;
    var name;
    try { name = regionNames.of(r.value); } catch (e) { name = undefined; }
    return name && name !== r.value ? name + ' (' + r.value + ')' : r.value;
  }

  function refreshLive() {
    return fetchJson('/api/live?site=' + encodeURIComponent(site())).then(function (live) {
      text('live-visitors', number(live.visitorsNow));
      text('live-visits-open', number(live.visitsInProgress));
      text('live-visits', number(live.visitsLast30Minutes));
      text('live-pageviews', number(live.pageviewsLast30Minutes));
      text('live-bots', number(live.botHitsLastHour));
      text('live-updated', 'updated ' + new Date().toLocaleTimeString());
      chart('live-chart', ['Page views', 'Visits'], [times(live.perMinute, 'minute'), column(live.perMinute, 'pageviews'), column(live.perMinute, 'visits')]);
      fillTable('live-pages', live.topPages, [value, function (r) { return number(r.count); }]);
      fillTable('live-referrers', live.topReferrers, [value, function (r) { return number(r.count); }]);
      fillTable('live-events', live.customEvents, [value, function (r) { return number(r.count); }]);
    }).catch(function (e) { text('live-updated', 'live view unavailable: ' + e.message); });
  }

  // The range lives in the URL (?site=…&range=7d, or range=custom&from=…&to=… as inclusive
  // dates), so a view can be bookmarked; the tracker resolves presets and rejects bad ranges.
  var DAY = 86400000;
  var isDate = function (t) { return /^\d{4}-\d{2}-\d{2}$/.test(t); };
  function day(ms) { return new Date(ms).toISOString().slice(0, 10); }
  // Filters (the parts of a combination the warehouse keeps) are URL parameters too: &country=DE.
  var FILTERS = ['page', 'referrer', 'device', 'country', 'browser', 'os', 'utm_source', 'utm_medium', 'utm_campaign'];
  function filtersOf(p) {
    var f = {};
    FILTERS.forEach(function (d) { if (p.get(d)) f[d] = p.get(d); });
    return f;
  }
  var view = { range: params.get('range') || (params.get('from') || params.get('to') ? 'custom' : '30d'), from: params.get('from') || '', to: params.get('to') || '', filters: filtersOf(params) };
  function filtered() { return Object.keys(view.filters).length > 0; }
  /** The visitors query takes a filter on the page alone (the page's sketches); other filters are filtered-visitors'. */
  function pageAlone() { var d = Object.keys(view.filters); return d.length === 1 && d[0] === 'page'; }
  function addFilters(q) { FILTERS.forEach(function (d) { if (view.filters[d] !== undefined) q.set(d, view.filters[d]); }); return q; }

  /** The API's parameters for the view: custom dates are inclusive here, `to` is exclusive there. */
  function rangeQuery() {
    var q = new URLSearchParams({ site: site(), range: view.range });
    if (view.range === 'custom') {
      if (view.from) q.set('from', view.from);
      if (view.to) q.set('to', isDate(view.to) ? day(Date.parse(view.to + 'T00:00:00Z') + DAY) : view.to);
    }
    return addFilters(q);
  }

  function keepInUrl() {
    var q = new URLSearchParams({ site: site(), range: view.range });
    if (view.range === 'custom') { q.set('from', view.from); q.set('to', view.to); }
    history.replaceState(null, '', '/dashboard?' + addFilters(q).toString());
  }

  function setFilter(dimension, value) {
    if (value === undefined) delete view.filters[dimension];
    else view.filters[dimension] = value;
    keepInUrl();
    window.dashboardReady = refreshHistory();
  }
  /** The chips of the filters on, each removable. */
  function showFilters() {
    var list = $('filter-list');
    list.replaceChildren();
    FILTERS.forEach(function (d) {
      if (view.filters[d] === undefined) return;
      var li = document.createElement('li');
      var label = document.createElement('span');
      label.textContent = d + ': ' + (d === 'country' ? countryName({ value: view.filters[d] }) : view.filters[d]);
      var remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = '×';
      remove.setAttribute('aria-label', 'Remove the filter ' + d + ' ' + view.filters[d]);
      remove.addEventListener('click', function () { setFilter(d, undefined); });
      li.appendChild(label);
      li.appendChild(remove);
      list.appendChild(li);
    });
    $('filters').hidden = !filtered();
    // Tables without counts per combination are hidden while a filter is on.
    document.querySelectorAll('table[data-unfiltered]').forEach(function (t) { t.hidden = filtered(); });
  }

  /** "+50.0%" against the previous period (bounce rate: "+5.0 pp"); empty when there is nothing to compare with. */
  function change(x, points) {
    if (x === null || x === undefined) return '';
    var tenths = Math.round(x * 1000) / 10 + 0; // + 0: a change that rounds to nothing is 0.0, not -0.0
    return (tenths > 0 ? '+' : '') + tenths.toFixed(1) + (points ? ' pp' : '%');
  }
  function figure(id, current, previous, delta, format, points) {
    text('h-' + id, format(current));
    var el = $('h-' + id + '-change');
    el.textContent = (delta === null ? '' : change(delta, points) + ' ') + 'vs ' + format(previous);
    var better = points ? -delta : delta; // a bounce rate that falls is good news
    el.className = 'change' + (delta === null || delta === 0 ? '' : better > 0 ? ' up' : ' down');
  }
  var ratio = function (x) { return x === null ? '–' : x.toFixed(2); };

  /** With filters on, a table's link is its dimension's filtered-top and the traffic links filtered-traffic; the others have no filtered query and are hidden. */
  function setCsvLinks(by) {
    document.querySelectorAll('a.csv').forEach(function (a) {
      var q = rangeQuery();
      var query = a.dataset.query;
      var table = a.closest('table');
      var dimension = table && table.dataset.filter;
      if (filtered()) {
        if (query === 'traffic') query = 'filtered-traffic';
        else if (dimension && dimension !== 'utm') { query = 'filtered-top'; q.set('dimension', dimension); }
        else if (query === 'visitors') { if (!pageAlone()) query = 'filtered-visitors'; }
        else query = null; // the UTM table, the goals (their conversions are filtered-traffic per goal)
      }
      a.hidden = query === null;
      if (query === null) return;
      q.set('query', query);
      if (a.dataset.kind === 'series') q.set('by', by);
      if (/^(top|goal|filtered-top)/.test(query)) q.set('limit', '1000');
      a.href = '/api/export?' + q.toString();
    });
  }

  function refreshHistory() {
    var error = $('history-error');
    $('preset').value = view.range;
    text('history-status', 'loading…');
    showFilters();
    return fetchJson('/api/history?' + rangeQuery().toString()).then(function (h) {
      error.hidden = true;
      var r = h.range, t = r.totals, p = h.previous.totals, c = h.change;
      $('from').value = r.from.slice(0, 10);
      $('to').value = day(Date.parse(r.to) - 1);
      text('compare-note', 'compared with ' + h.previous.from.slice(0, 16).replace('T', ' ') + ' – ' + h.previous.to.slice(0, 16).replace('T', ' ') + ' UTC');
      figure('pageviews', t.pageviews, p.pageviews, c.pageviews, number);
      figure('visitors', t.visitors, p.visitors, c.visitors, number);
      figure('visits', t.visits, p.visits, c.visits, number);
      figure('bounce', t.bounceRate, p.bounceRate, c.bounceRate, percent, true);
      figure('ppv', t.pagesPerVisit, p.pagesPerVisit, c.pagesPerVisit, ratio);
      text('series-title', r.by === 'hour' ? 'Per hour' : 'Per day');
      var before = function (key) { return h.series.map(function (s) { return s.previous ? s.previous[key] : null; }); };
      chart('history-chart', ['Page views', 'Visitors', 'Visits', 'Page views before', 'Visitors before', 'Visits before'], [
        times(h.series, 'period'), column(h.series, 'pageviews'), column(h.series, 'visitors'), column(h.series, 'visits'),
        before('pageviews'), before('visitors'), before('visits'),
      ]);
      var by = function (dimension) { return function (x) { return [dimension, x.value]; }; };
      fillTable('h-pages', r.topPages, [value, function (x) { return number(x.pageviews); }], undefined, by('page'));
      fillTable('h-referrers', r.topReferrers, [value, function (x) { return number(x.pageviews); }], undefined, by('referrer'));
      fillTable('h-entry', r.topEntryPages, [value, function (x) { return number(x.visits); }, function (x) { return percent(x.bounceRate); }]);
      fillTable('h-devices', r.devices, [value, function (x) { return number(x.pageviews); }], undefined, by('device'));
      fillTable('h-campaigns', r.campaigns, [function (x) { return x.dimension; }, value, function (x) { return number(x.pageviews); }], undefined, function (x) { return [x.dimension, x.value]; });
      fillTable('h-countries', r.countries, [countryName, function (x) { return number(x.pageviews); }], undefined, by('country'));
      fillTable('h-browsers', r.browsers, [value, function (x) { return number(x.pageviews); }], undefined, by('browser'));
      fillTable('h-os', r.operatingSystems, [value, function (x) { return number(x.pageviews); }], undefined, by('os'));
      var noGoals = r.goals.length === 0 ? 'No goals yet: add one above, or set GOALS (e.g. GOALS=signup,/thank-you)' : undefined;
      var goal = function (x) { return x.goal; };
      fillTable('h-goals', r.goals, [goal, function (x) { return number(x.conversions); }, function (x) { return number(x.converters); }, function (x) { return percent(x.conversionRate); },
        function (x) { return (x.change.conversionRate === null ? '' : change(x.change.conversionRate, true) + ' ') + 'vs ' + percent(x.previous.conversionRate); }], noGoals);
      var perGoal = [goal, value, function (x) { return number(x.conversions); }, function (x) { return number(x.converters); }, function (x) { return percent(x.conversionRate); }];
      fillTable('h-goal-sources', r.goalSources, perGoal, noGoals);
      fillTable('h-goal-pages', r.goalPages, perGoal, noGoals);
      setCsvLinks(r.by);
      document.querySelectorAll('a.csv[data-query^="goal"]').forEach(function (a) { a.hidden = a.hidden || r.goals.length === 0; });
      text('history-status', 'from the ' + h.warehouse + ' warehouse');
    }).catch(function (e) {
      error.textContent = 'History unavailable: ' + e.message;
      error.hidden = false;
      text('history-status', 'unavailable');
    });
  }

  // Goals of GOALS (fixed here) and those added on the dashboard (stored in the warehouse).
  function showGoals(g) {
    var list = $('goal-list');
    list.replaceChildren();
    g.configured.concat(g.stored).forEach(function (name, i) {
      var li = document.createElement('li');
      var label = document.createElement('span');
      label.textContent = name;
      li.appendChild(label);
      if (i < g.configured.length) {
        li.className = 'configured';
        li.title = 'from GOALS';
      } else {
        var remove = document.createElement('button');
        remove.type = 'button';
        remove.textContent = '×';
        remove.setAttribute('aria-label', 'Remove the goal ' + name);
        remove.addEventListener('click', function () { window.dashboardReady = changeGoal('DELETE', name); });
        li.appendChild(remove);
      }
      list.appendChild(li);
    });
  }
  function goalsUrl(goal) {
    var q = new URLSearchParams({ site: site() });
    if (goal !== undefined) q.set('goal', goal);
    return '/api/goals?' + q.toString();
  }
  function goalError(e) {
    $('goal-error').textContent = e ? 'Goals: ' + e.message : '';
    $('goal-error').hidden = !e;
  }
  function refreshGoals() {
    return fetchJson(goalsUrl()).then(function (g) { goalError(null); showGoals(g); }).catch(goalError);
  }
  function changeGoal(method, goal) {
    return fetchJson(goalsUrl(goal), method).then(function (g) {
      goalError(null);
      showGoals(g);
      if (method === 'POST') $('goal-input').value = '';
      return refreshHistory();
    }).catch(goalError);
  }
  $('goal-form').addEventListener('submit', function (e) {
    e.preventDefault();
    window.dashboardReady = changeGoal('POST', $('goal-input').value.trim());
  });

  $('preset').addEventListener('change', function () {
    if ($('preset').value === 'custom') return; // pick the dates, then Show
    view = { range: $('preset').value, from: '', to: '', filters: view.filters };
    keepInUrl();
    refreshHistory();
  });
  $('range').addEventListener('submit', function (e) {
    e.preventDefault();
    var preset = $('preset').value;
    view = preset === 'custom' ? { range: 'custom', from: $('from').value, to: $('to').value, filters: view.filters } : { range: preset, from: '', to: '', filters: view.filters };
    keepInUrl();
    refreshHistory();
  });
  // Editing a date makes the range custom.
  ['from', 'to'].forEach(function (id) { $(id).addEventListener('input', function () { $('preset').value = 'custom'; }); });

  // Another site's values are not this one's: its filters go.
  siteSelect.addEventListener('change', function () { view.filters = {}; keepInUrl(); refreshLive(); refreshHistory(); refreshGoals(); });
  window.addEventListener('resize', function () {
    Object.keys(charts).forEach(function (id) { var w = Math.max(280, $(id).clientWidth); charts[id].setSize({ width: w, height: w < 600 ? 180 : 240 }); });
  });
  window.dashboardReady = Promise.all([refreshLive(), refreshHistory(), refreshGoals()]);
  setInterval(refreshLive, 5000);
})();
