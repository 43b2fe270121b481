import { USER_AGENTS } from './traffic.js';

/** Per-site outcome of a stream of pixel hits. */
export interface HitLoop {
  /** Hits answered 200 (acknowledged: in Redis), by site. */
  acknowledged: Map<string, number>;
  /** Hits answered otherwise, or not at all, by site (not acknowledged). */
  failed: Map<string, number>;
  /** Statuses other than 200 seen, with their counts. */
  statuses: Map<string, number>;
  stop(): Promise<void>;
}

const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/**
 * Sends pixel hits to `base` from `concurrency` loops until stopped, round robin over `sites`,
 * on 50 pages and 500 visitors per site.
 */
export function startHitLoop(base: string, sites: readonly string[], concurrency = 8): HitLoop {
  const loop: HitLoop = { acknowledged: new Map(), failed: new Map(), statuses: new Map(), stop: async () => undefined };
  let n = 0;
  let stopped = false;
  const workers = Array.from({ length: concurrency }, async () => {
    while (!stopped) {
      const i = n++;
      const site = sites[i % sites.length]!;
      try {
        const res = await fetch(`${base}/p.gif?site=${site}&path=/p/${i % 50}&uid=v${i % 500}`, {
          headers: { 'user-agent': USER_AGENTS.desktop },
          signal: AbortSignal.timeout(30_000),
        });
        await res.arrayBuffer();
        if (res.status === 200) add(loop.acknowledged, site);
        else {
          add(loop.failed, site);
          add(loop.statuses, String(res.status));
        }
      } catch (error) {
        add(loop.failed, site);
        add(loop.statuses, (error as Error).name);
      }
    }
  });
  loop.stop = async () => {
    stopped = true;
    await Promise.all(workers);
  };
  return loop;
}

/** Page views per site in a warehouse. */
export async function pageviewsBySite(warehouse: { query(sql: string): Promise<Array<Record<string, unknown>>> }): Promise<Map<string, number>> {
  const rows = await warehouse.query("SELECT site, sum(count) AS n FROM event_counts WHERE event = 'pageview' AND dimension = 'total' GROUP BY site");
  return new Map(rows.map((r) => [String(r.site), Number(r.n)]));
}

/**
 * Ledger rows that load the same generation of a (site, minute) twice under different batch
 * ids: what a claim repeated after a rollback would do with random ids. Sub-batches (`+…`,
 * `#…`) belong to their claim.
 */
export async function doubledGenerations(warehouse: { query(sql: string): Promise<Array<Record<string, unknown>>> }): Promise<string[]> {
  const rows = await warehouse.query('SELECT batch_id FROM load_batches');
  const seen = new Map<string, Set<string>>();
  for (const { batch_id } of rows) {
    const id = String(batch_id).split(/[+#]/)[0]!;
    const cut = id.lastIndexOf('-');
    const generation = id.slice(0, cut);
    const ids = seen.get(generation) ?? new Set();
    ids.add(id);
    seen.set(generation, ids);
  }
  return [...seen].filter(([, ids]) => ids.size > 1).map(([generation]) => generation);
}
