import type { IncomingMessage, ServerResponse } from 'node:http';
import { LIMITS, type RawEvent } from '@rta/events';
import { countEvents, type IngestDeps } from '../count-events.js';
import { sendPixel } from '../http.js';

const PIXEL_FIELDS = ['site', 'path', 'url', 'ref', 'event', 'uid'] as const;

/**
 * `GET /p.gif?site=…&path=…&ref=…&event=…&uid=…`. Always answers the GIF so pages show no
 * broken image: 200 when counted (or ignored as a bot), 400 with `X-Analytics-Rejected` when not.
 */
export async function handlePixel(
  req: IncomingMessage,
  res: ServerResponse,
  deps: IngestDeps,
): Promise<void> {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const query = q < 0 ? '' : url.slice(q + 1);
  if (Buffer.byteLength(query) > LIMITS.queryStringBytes) {
    deps.metrics.rejected.inc({ reason: 'query_too_long' });
    return sendPixel(res, 400, { 'X-Analytics-Rejected': 'query_too_long' });
  }
  const params = new URLSearchParams(query);
  const raw: RawEvent = {};
  for (const field of PIXEL_FIELDS) {
    const value = params.get(field);
    if (value !== null) raw[field] = value;
  }
  const result = await countEvents(
    [raw],
    {
      userAgent: req.headers['user-agent'] ?? '',
      ip: deps.proxy.clientIp(req),
      refererPath: raw.path === undefined && raw.url === undefined ? refererPath(req.headers.referer) : undefined,
      receivedAt: deps.clock(),
    },
    deps,
  );
  const rejected = result.rejected[0];
  if (rejected) return sendPixel(res, 400, { 'X-Analytics-Rejected': rejected.reason });
  sendPixel(res, 200, result.bots > 0 ? { 'X-Analytics-Ignored': 'bot' } : undefined);
}

function refererPath(referer: string | undefined): string | undefined {
  if (!referer || referer.length > LIMITS.urlLength || !URL.canParse(referer)) return undefined;
  try {
    return decodeURIComponent(new URL(referer).pathname);
  } catch {
    return new URL(referer).pathname;
  }
}
