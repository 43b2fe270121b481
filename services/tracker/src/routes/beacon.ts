import type { IncomingMessage, ServerResponse } from 'node:http';
import { LIMITS, type RawEvent, type RejectionReason } from '@rta/events';
import { countEvents, type IngestDeps } from '../count-events.js';
import { BodyTooLarge, CORS, readBody, sendJson } from '../http.js';

/**
 * `POST /e`: one event object or an array of up to 100, as `application/json` or `text/plain`
 * (what `navigator.sendBeacon` sends, no CORS preflight). 202 `{accepted, rejected, ignored,
 * errors}` when at least one event was counted or ignored as a bot; 400 with the same body when
 * none was; 413 for bodies over 64 KiB; 415 for other content types.
 */
export async function handleBeacon(
  req: IncomingMessage,
  res: ServerResponse,
  deps: IngestDeps,
): Promise<void> {
  const reject = (status: number, reason: RejectionReason) => {
    deps.metrics.rejected.inc({ reason });
    sendJson(res, status, { accepted: 0, rejected: 1, ignored: 0, errors: [{ index: null, reason }] }, {
      ...CORS,
      'X-Analytics-Rejected': reason,
    });
  };
  const type = (req.headers['content-type'] ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== 'text/plain') {
    req.resume();
    return reject(415, 'unsupported_media_type');
  }
  let body: Buffer;
  try {
    body = await readBody(req, LIMITS.bodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLarge) return reject(413, 'body_too_large');
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return reject(400, 'invalid_json');
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  if (items.length === 0) return reject(400, 'empty_batch');
  if (items.length > LIMITS.batchEvents) return reject(400, 'batch_too_large');
  const objects: RawEvent[] = [];
  const shapeErrors: Array<{ index: number; reason: RejectionReason }> = [];
  const positions: number[] = [];
  items.forEach((item, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      shapeErrors.push({ index, reason: 'invalid_body' });
      deps.metrics.rejected.inc({ reason: 'invalid_body' });
    } else {
      objects.push(item as RawEvent);
      positions.push(index);
    }
  });
  const result = await countEvents(
    objects,
    {
      userAgent: req.headers['user-agent'] ?? '',
      ip: deps.proxy.clientIp(req),
      receivedAt: deps.clock(),
    },
    deps,
  );
  const errors = [...shapeErrors, ...result.rejected.map((r) => ({ index: positions[r.index]!, reason: r.reason }))].sort(
    (a, b) => a.index - b.index,
  );
  const status = result.accepted + result.bots > 0 ? 202 : 400;
  sendJson(
    res,
    status,
    { accepted: result.accepted, rejected: errors.length, ignored: result.bots, errors },
    status === 400 && errors[0] ? { ...CORS, 'X-Analytics-Rejected': errors[0].reason } : CORS,
  );
}
