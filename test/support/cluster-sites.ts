import type { RedisCluster } from './redis-servers.js';

/** Site names whose hash tags (`{<prefix>:<site>}`) put `perMaster` of them on every master. */
export async function sitesOnEveryMaster(cluster: RedisCluster, prefix: string, perMaster: number): Promise<string[]> {
  const masters = await cluster.masters();
  const ranges = new Map<number, Array<[number, number]>>();
  const client = masters[0]!.client();
  try {
    const slots = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
    for (const [from, to, master] of slots) {
      const list = ranges.get(Number(master[1])) ?? [];
      list.push([from, to]);
      ranges.set(Number(master[1]), list);
    }
  } finally {
    client.disconnect();
  }
  const owner = (slot: number) => [...ranges].find(([, list]) => list.some(([a, b]) => slot >= a && slot <= b))![0];
  const picked = new Map<number, string[]>(masters.map((m) => [m.port, []]));
  for (let i = 0; [...picked.values()].some((list) => list.length < perMaster); i++) {
    const site = `s${i}.example.com`;
    const list = picked.get(owner(await cluster.keySlot(`{${prefix}:${site}}`)))!;
    if (list.length < perMaster) list.push(site);
  }
  return [...picked.values()].flat();
}
