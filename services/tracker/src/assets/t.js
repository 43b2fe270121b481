/* rta tracker: <script defer src="https://TRACKER/t.js" data-site="example.com"></script>
   Options: data-api (endpoint, default TRACKER/e), data-respect-dnt (send nothing when Do Not
   Track or Global Privacy Control is on), data-allow-localhost (count localhost pages),
   data-allow-bots (count this page's hits even from headless or automated browsers, to verify
   an installation; remove it afterwards).
   Sends a page view on load and on SPA navigation (pushState, popstate); window.analytics.track(name)
   sends a custom event. No cookie, no storage. */
(function (w, d) {
  var s = d.currentScript, n = w.navigator, l = w.location, h = w.history, last;
  if (!s) return;
  var site = s.getAttribute('data-site');
  var api = s.getAttribute('data-api') || s.src.replace(/\/t\.js(\?.*)?$/, '/e');
  function on(a) { return s.hasAttribute(a); }
  function blocked() {
    if (on('data-respect-dnt') && (n.doNotTrack == '1' || w.doNotTrack == '1' || n.globalPrivacyControl)) return 1;
    if (/^(localhost|127(\.\d+){3}|\[::1\])$/.test(l.hostname) && !on('data-allow-localhost')) return 1;
    return l.protocol == 'file:';
  }
  function send(event) {
    if (!site || blocked()) return;
    var body = JSON.stringify({ site: site, url: l.href, ref: d.referrer || undefined, event: event, allow_bots: on('data-allow-bots') || undefined });
    try { if (n.sendBeacon && n.sendBeacon(api, body)) return; } catch (e) {}
    w.fetch && fetch(api, { method: 'POST', body: body, keepalive: true, headers: { 'Content-Type': 'text/plain' } })['catch'](function () {});
  }
  function page() {
    if (l.href == last) return;
    last = l.href;
    send('pageview');
  }
  var push = h.pushState;
  h.pushState = function () { var r = push.apply(this, arguments); page(); return r; };
  w.addEventListener('popstate', page);
  w.analytics = { track: function (name) { send(String(name)); } };
  page();
})(window, document);
