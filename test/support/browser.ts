import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Debian Chromium with a fresh profile. `doNotTrack` turns on Chromium's own "Send a
 * Do Not Track request" preference, so `navigator.doNotTrack` is '1' as in a real browser.
 */
export async function launchChromium(options: { doNotTrack?: boolean } = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
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
    // Headless Chromium announces itself as HeadlessChrome, which the tracker (isbot) ignores
    // as a bot, rightly: the test plays a person with a regular desktop Chrome.
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
  });
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
 * data-allow-localhost (so the script must send nothing from 127.0.0.1).
 */
export async function startTestSite(trackerBase: string, site: string): Promise<{ base: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const attributes = [`data-site="${site}"`];
    if (!query.has('no-opt-in')) attributes.push('data-allow-localhost');
    if (query.has('dnt')) attributes.push('data-respect-dnt');
    const html = `<!doctype html><html><head><title>Test site</title>
<script defer src="${trackerBase}/t.js" ${attributes.join(' ')}></script></head>
<body><h1 id="title">Home</h1>
<button id="to-pricing" onclick="history.pushState({}, '', '/pricing'); document.getElementById('title').textContent = 'Pricing'">Pricing</button>
<button id="to-docs" onclick="history.pushState({}, '', '/docs'); document.getElementById('title').textContent = 'Docs'">Docs</button>
<button id="signup" onclick="analytics.track('signup')">Sign up</button>
</body></html>`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Polls `read` until `done` holds or the time runs out (bounded retries, no fixed sleeps). */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
