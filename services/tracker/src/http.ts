import type { IncomingMessage, ServerResponse } from 'node:http';

/** The 43-byte transparent 1×1 GIF. */
export const PIXEL = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

/** Only the tracking endpoints (`/p.gif`, `/e`) are open to every origin; the dashboard and its APIs send no CORS header. */
export const CORS = { 'Access-Control-Allow-Origin': '*' };

const PIXEL_HEADERS = {
  ...CORS,
  'Content-Type': 'image/gif',
  'Content-Length': PIXEL.length,
  'Cache-Control': 'no-store, no-cache, must-revalidate, private',
  Pragma: 'no-cache',
  Expires: '0',
};

/** The GIF with headers that keep every hit out of caches. */
export function sendPixel(res: ServerResponse, status: number, headers?: Record<string, string>): void {
  res.writeHead(status, headers ? { ...PIXEL_HEADERS, ...headers } : PIXEL_HEADERS);
  res.end(PIXEL);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

export function sendPreflight(res: ServerResponse): void {
  res.writeHead(204, {
    ...CORS,
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Content-Type',
    'Access-Control-Max-Age': '86400',
  });
  res.end();
}

/**
 * Whether a request failed because its client went away (an aborted upload, a reset
 * connection) rather than by a fault of the tracker: logged at debug, never as an error.
 */
export function clientWentAway(req: IncomingMessage, error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'EPIPE' || (req.destroyed && !req.complete);
}

export class BodyTooLarge extends Error {}

/** Reads a body up to `limit` bytes; past it, rejects without buffering the rest. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new BodyTooLarge());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
