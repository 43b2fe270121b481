import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { WAIT_CEILING_MS } from './wait.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A regular desktop Chrome's user agent: the test plays a person. */
export const DESKTOP_CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
/** The test user agent the README documents for checking an installation with a headless browser. */
export const README_TEST_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64)';

/**
 * Headless Debian Chromium with a fresh profile. `doNotTrack` turns on Chromium's own "Send a
 * Do Not Track request" preference, so `navigator.doNotTrack` is '1' as in a real browser.
 * `userAgent` defaults to DESKTOP_CHROME; `null` keeps Chromium's own (`HeadlessChrome/…`),
 * which the tracker (isbot) rightly ignores as a bot.
 */
export async function launchChromium(
  options: { doNotTrack?: boolean; userAgent?: string | null } = {},
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'rta-chromium-'));
  if (options.doNotTrack) {
    mkdirSync(join(profile, 'Default'));
    writeFileSync(join(profile, 'Default', 'Preferences'), JSON.stringify({ enable_do_not_track: true }));
  }
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    userAgent: options.userAgent === null ? undefined : (options.userAgent ?? DESKTOP_CHROME),
  });
  // Playwright's 30 s defaults for clicks and page loads are budgets a loaded machine can miss.
  context.setDefaultTimeout(WAIT_CEILING_MS);
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A tiny test site on 127.0.0.1: every path answers the same single-page app whose script tag
 * points at the tracker. `?dnt` adds data-respect-dnt; `?no-opt-in` leaves out
 * data-allow-localhost (so the script must send nothing from 127.0.0.1); `?allow-bots` adds
 * data-allow-bots; `?outbound` and `?downloads` add data-track-outbound and data-track-downloads.
 * Its links: `#outbound` to `/plain` on `localhost` (another host, a page without the script),
 * `#download` to `/files/report.pdf` (served as an attachment). `/missing` answers 404 with a
 * page that calls `analytics.track('404', {path})` as the README shows.
 */
export async function startTestSite(trackerBase: string, site: string): Promise<{ base: string; close(): Promise<void> }> {
  let port = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = url.searchParams;
    if (url.pathname === '/plain') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end('<!doctype html><title>Elsewhere</title><h1 id="title">Elsewhere</h1>');
    }
    if (url.pathname === '/files/report.pdf') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Disposition': 'attachment; filename="report.pdf"' });
      return res.end('%PDF-1.4 test file');
    }
    const attributes = [`data-site="${site}"`];
    if (!query.has('no-opt-in')) attributes.push('data-allow-localhost');
    if (query.has('dnt')) attributes.push('data-respect-dnt');
    if (query.has('allow-bots')) attributes.push('data-allow-bots');
    if (query.has('outbound')) attributes.push('data-track-outbound');
    if (query.has('downloads')) attributes.push('data-track-downloads');
    const missing = url.pathname === '/missing';
    const html = `<!doctype html><html><head><title>Test site</title>
<script defer src="${trackerBase}/t.js" ${attributes.join(' ')}></script>
${missing ? "<script>document.addEventListener('DOMContentLoaded', function () { analytics.track('404', { path: location.pathname }); });</script>" : ''}</head>
<body><h1 id="title">${missing ? 'Not found' : 'Home'}</h1>
<button id="to-pricing" onclick="history.pushState({}, '', '/pricing'); document.getElementById('title').textContent = 'Pricing'">Pricing</button>
<button id="to-docs" onclick="history.pushState({}, '', '/docs'); document.getElementById('title').textContent = 'Docs'">Docs</button>
<button id="signup" onclick="analytics.track('signup')">Sign up</button>
<a id="outbound" href="http://localhost:${port}/plain">Elsewhere</a>
<a id="download" href="/files/report.pdf">Report</a>
</body></html>`;
    res.writeHead(missing ? 404 : 200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Logs into the dashboard with the form, as a person does, and waits until it has drawn its numbers. */
export async function logIntoDashboard(page: Page, trackerBase: string, token: string): Promise<void> {
  const login = await page.goto(`${trackerBase}/dashboard`);
  if (login?.status() !== 401) throw new Error(`the dashboard answered ${login?.status()} before the login`);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${trackerBase}/dashboard`), page.click('button[type=submit]')]);
  // The login form is served at /dashboard too, so wait for the dashboard script itself.
  await page.waitForFunction(() => (globalThis as unknown as { dashboardReady?: Promise<unknown> }).dashboardReady !== undefined);
  await page.evaluate(() => (globalThis as unknown as { dashboardReady: Promise<unknown> }).dashboardReady);
}
