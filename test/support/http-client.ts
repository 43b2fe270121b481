import type { Hit } from './traffic.js';

/** Sends one hit as a pixel GET, the way a page's <img> would. */
export async function sendPixel(base: string, hit: Hit): Promise<Response> {
  const params = new URLSearchParams({ site: hit.site, path: hit.sentPath, event: hit.event });
  if (hit.ref) params.set('ref', hit.ref);
  if (hit.uid) params.set('uid', hit.uid);
  const res = await fetch(`${base}/p.gif?${params}`, {
    headers: { 'user-agent': hit.userAgent, 'x-forwarded-for': hit.ip },
  });
  await res.arrayBuffer();
  return res;
}

/** Sends hits of one visitor as one beacon batch (text/plain, as navigator.sendBeacon does). */
export async function sendBeacon(base: string, hits: readonly Hit[]): Promise<Response> {
  const body = hits.map((h) => ({ site: h.site, path: h.sentPath, event: h.event, ref: h.ref || undefined, uid: h.uid }));
  const res = await fetch(`${base}/e`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': hits[0]!.userAgent, 'x-forwarded-for': hits[0]!.ip },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res;
}

/** Runs tasks with at most `concurrency` in flight. */
export async function inParallel<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}
