/* rta tracker: <script defer src="https://TRACKER/t.js" data-site="example.com"></script>
   Options (data-api, data-respect-dnt, data-allow-localhost, data-allow-bots,
   data-track-outbound, data-track-downloads) and analytics.track(name, {path}): see the README,
   "Install tracking on your site". No cookie, no storage. */
(function (w, d) {
  var s = d.currentScript, n = w.navigator, l = w.location, h = w.history, last;
  if (!s) return;
  var site = s.getAttribute('data-site');
  var api = s.getAttribute('data-api') || s.src.replace(/\/t\.js(\?.*)?$/, '/e');
  var types = s.getAttribute('data-track-downloads');
  types = new RegExp('\\.(' + (types ? types.replace(/[^\w,]/g, '').replace(/,/g, '|') : 'pdf|zip|gz|tgz|7z|rar|dmg|exe|msi|pkg|deb|rpm|apk|iso|csv|xlsx?|docx?|pptx?|odt|txt|rtf|epub|mp3|wav|mp4|mov|avi') + ')$', 'i');
  function on(a) { return s.hasAttribute(a); }
  function blocked() {
    if (on('data-respect-dnt') && (n.doNotTrack == '1' || w.doNotTrack == '1' || n.globalPrivacyControl)) return 1;
    if (/^(localhost|127(\.\d+){3}|\[::1\])$/.test(l.hostname) && !on('data-allow-localhost')) return 1;
    return l.protocol == 'file:';
  }
  function send(event, path, ref) {
    if (!site || blocked()) return;
    var body = JSON.stringify({ site: site, url: l.href, path: path, ref: ref || d.referrer || undefined, event: event, allow_bots: on('data-allow-bots') || undefined });
    try { if (n.sendBeacon && n.sendBeacon(api, body)) return; } catch (e) {}
    w.fetch && fetch(api, { method: 'POST', body: body, keepalive: true, headers: { 'Content-Type': 'text/plain' } })['catch'](function () {});
  }
  function page() {
    if (l.href == last) return;
    last = l.href;
    send('pageview');
  }
  function path(p) { try { return decodeURIComponent(p); } catch (e) { return p; } }
  // A left or middle click on a link; the beacon outlives the page, so navigation is never held up.
  function click(e) {
    var a = e.target.closest && e.target.closest('a[href]');
    if (!a || e.button > 1 || !/^https?:$/.test(a.protocol)) return;
    if (on('data-track-downloads') && (a.hasAttribute('download') || types.test(a.pathname))) send('download', path(a.pathname), a.origin);
    else if (on('data-track-outbound') && a.host != l.host) send('outbound', undefined, a.origin);
  }
  d.addEventListener('click', click, true);
  d.addEventListener('auxclick', click, true);
  var push = h.pushState;
  h.pushState = function () { var r = push.apply(this, arguments); page(); return r; };
  w.addEventListener('popstate', page);
  w.analytics = { track: function (name, p) { send(String(name), p && p.path); } };
  page();
})(window, document);
