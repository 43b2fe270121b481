/// <reference path="./cluster-key-slot.d.ts" />
import calculateSlot from 'cluster-key-slot';
import { Cluster, type ChainableCommander, type Redis } from 'ioredis';

/** A connection to one Redis or to a Redis Cluster: every module of the pipeline takes either. */
export type RedisClient = Redis | Cluster;

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/**
 * The connections to every master: the client itself on a standalone Redis. On a cluster, only
 * connections that are up: a master that just failed keeps its connection in the pool until the
 * next topology refresh, and a command on it would wait for a reconnection that never comes.
 */
export function masterNodes(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master').filter((node) => node.status === 'ready') : [client];
}

/** `host:port` of a node connection, as CLUSTER SLOTS names it. */
export function nodeName(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

/** Fields of an INFO section (`name:value` lines). */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const cut = line.indexOf(':');
    if (cut > 0 && !line.startsWith('#')) fields.set(line.slice(0, cut), line.slice(cut + 1));
  }
  return fields;
}

/** Runs a MULTI or pipeline and returns each command's reply; a command's error rejects (ioredis only reports it in the reply). */
export async function execMulti(multi: ChainableCommander): Promise<unknown[]> {
  const replies = await multi.exec();
  if (replies === null) throw new Error('MULTI was discarded');
  return replies.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/** Runs a pipeline; each reply as [error, value], in order (for replies that may fail alone). */
export async function execPipeline(pipeline: ChainableCommander): Promise<Array<[Error | null, unknown]>> {
  return ((await pipeline.exec()) ?? []) as Array<[Error | null, unknown]>;
}

/**
 * Whether the client can serve keys of these hash tags now: one Redis answers PING; a cluster
 * reports cluster_state:ok and the master of every tag's slot answers PING. Returns a reason
 * when not.
 */
export async function servingHealth(client: RedisClient, tags: readonly string[]): Promise<string | undefined> {
  try {
    if (!isCluster(client)) {
      await client.ping();
      return undefined;
    }
    const info = parseInfo(String(await client.call('CLUSTER', 'INFO')));
    if (info.get('cluster_state') !== 'ok') return `cluster_state:${info.get('cluster_state') ?? 'unknown'}`;
    const masters = new Map(client.nodes('master').map((node) => [nodeName(node), node]));
    const needed = new Set<Redis>();
    for (const tag of tags) {
      const slot = calculateSlot(tag);
      const node = masters.get(client.slots[slot]?.[0] ?? '');
      if (!node) return `no master serves slot ${slot}`;
      needed.add(node);
    }
    await Promise.all([...needed].map((node) => node.ping()));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
