/* Dashboard client: live view from /api/live every 5 s, history from /api/history. Text goes
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

  function fetchJson(url) {
    return fetch(url, { credentials: 'same-origin' }).then(function (res) {
      if (res.status === 401) { location.href = '/dashboard'; throw new Error('unauthorized'); }
      return res.json().then(function (body) {
        if (!res.ok) throw new Error(body.message || body.error || String(res.status));
        return body;
      });
    });
  }

  function fillTable(id, rows, columns) {
    var body = $(id).querySelector('tbody');
    body.replaceChildren();
    rows.forEach(function (row) {
      var tr = document.createElement('tr');
      columns.forEach(function (col, i) {
        var td = document.createElement('td');
        td.textContent = col(row);
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
      td.textContent = 'No data yet';
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
        return { label: label, stroke: colors[i], width: 2, fill: i === 0 ? 'rgba(37,99,235,0.08)' : undefined };
      })),
      axes: [{}, { size: 50 }],
      scales: { x: { time: true } },
      legend: { live: false },
    }, data, el);
  }

  function times(rows, key) { return rows.map(function (r) { return Date.parse(r[key]) / 1000; }); }
  function column(rows, key) { return rows.map(function (r) { return r[key]; }); }
  var value = function (r) { return r.value; };

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

  function day(d) { return d.toISOString().slice(0, 10); }
  var today = new Date();
  $('to').value = params.get('to') || day(today);
  $('from').value = params.get('from') || day(new Date(today.getTime() - 29 * 86400000));

  function refreshHistory() {
    var to = new Date(Date.parse($('to').value + 'T00:00:00Z') + 86400000);
    var url = '/api/history?site=' + encodeURIComponent(site()) + '&from=' + $('from').value + '&to=' + day(to);
    text('history-status', 'loading…');
    return fetchJson(url).then(function (h) {
      var t = h.range.totals;
      text('h-pageviews', number(t.pageviews));
      text('h-visitors', number(t.visitors));
      text('h-visits', number(t.visits));
      text('h-bounce', percent(t.bounceRate));
      text('h-ppv', t.pagesPerVisit === null ? '–' : t.pagesPerVisit.toFixed(2));
      var series = ['Page views', 'Visitors', 'Visits'];
      chart('hourly-chart', series, [times(h.hourly, 'period'), column(h.hourly, 'pageviews'), column(h.hourly, 'visitors'), column(h.hourly, 'visits')]);
      chart('daily-chart', series, [times(h.daily, 'period'), column(h.daily, 'pageviews'), column(h.daily, 'visitors'), column(h.daily, 'visits')]);
      fillTable('h-pages', h.range.topPages, [value, function (r) { return number(r.pageviews); }]);
      fillTable('h-referrers', h.range.topReferrers, [value, function (r) { return number(r.pageviews); }]);
      fillTable('h-entry', h.range.topEntryPages, [value, function (r) { return number(r.visits); }, function (r) { return percent(r.bounceRate); }]);
      fillTable('h-devices', h.range.devices, [value, function (r) { return number(r.pageviews); }]);
      fillTable('h-campaigns', h.range.campaigns, [function (r) { return r.dimension; }, value, function (r) { return number(r.pageviews); }]);
      text('history-status', 'from the ' + h.warehouse + ' warehouse');
    }).catch(function (e) { text('history-status', 'history unavailable: ' + e.message); });
  }

  siteSelect.addEventListener('change', function () { refreshLive(); refreshHistory(); });
  $('range').addEventListener('submit', function (e) { e.preventDefault(); refreshHistory(); });
  window.addEventListener('resize', function () {
    Object.keys(charts).forEach(function (id) { var w = Math.max(280, $(id).clientWidth); charts[id].setSize({ width: w, height: w < 600 ? 180 : 240 }); });
  });
  window.dashboardReady = Promise.all([refreshLive(), refreshHistory()]);
  setInterval(refreshLive, 5000);
})();
