import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

/** A static file held in memory with its gzip form and ETag, read once per process. */
export interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
  cacheControl: string;
}

const require = createRequire(import.meta.url);

function asset(path: string, type: string, cacheControl: string): Asset {
  const body = readFileSync(path);
  return { type, body, gzip: gzipSync(body, { level: 9 }), etag: `"${createHash('sha1').update(body).digest('base64url')}"`, cacheControl };
}

const local = (name: string) => new URL(`./assets/${name}`, import.meta.url).pathname;
const uplot = (name: string) => require.resolve(`uplot/dist/${name}`);

/**
 * Files the tracker serves: the browser script (`/t.js`, cached an hour by browsers and CDNs)
 * and the dashboard's own files, uPlot included (bundled, no CDN). They hold no data, so they
 * are served without the dashboard token.
 */
export function loadAssets(): Map<string, Asset> {
  const app = 'public, max-age=300';
  return new Map([
    ['/t.js', asset(local('t.js'), 'text/javascript; charset=utf-8', 'public, max-age=3600')],
    ['/dashboard/app.js', asset(local('dashboard.js'), 'text/javascript; charset=utf-8', app)],
    ['/dashboard/app.css', asset(local('dashboard.css'), 'text/css; charset=utf-8', app)],
    ['/dashboard/uplot.js', asset(uplot('uPlot.iife.min.js'), 'text/javascript; charset=utf-8', app)],
    ['/dashboard/uplot.css', asset(uplot('uPlot.min.css'), 'text/css; charset=utf-8', app)],
  ]);
}

export function sendAsset(req: IncomingMessage, res: ServerResponse, file: Asset): void {
  const headers: Record<string, string | number> = {
    'Content-Type': file.type,
    'Cache-Control': file.cacheControl,
    ETag: file.etag,
    Vary: 'Accept-Encoding',
    'X-Content-Type-Options': 'nosniff',
  };
  if (req.headers['if-none-match'] === file.etag) {
    res.writeHead(304, headers);
    return void res.end();
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? file.gzip : file.body;
  res.writeHead(200, { ...headers, ...(gzip ? { 'Content-Encoding': 'gzip' } : {}), 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}
