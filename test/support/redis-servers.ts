/**
 * Redis servers a test starts and stops itself, on free loopback ports, never the shared Redis on
 * 6379: a standalone server (with AOF when asked, restartable on its own data directory) and a
 * real Redis Cluster of `redis-server --cluster-enabled yes` processes joined by
 * `redis-cli --cluster create`. Every process is stopped by PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { eventually } from './wait.js';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const taken = new Set<number>();

/** A free port whose cluster bus port (port + 10,000) is free too. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) {
      taken.add(port);
      taken.add(port + 10_000);
      return port;
    }
  }
}

/** One `redis-server` process on 127.0.0.1:`port`, data under `dir`. */
export class RedisProcess {
  child: ChildProcess | undefined;
  /** The end of what the process printed (for failure messages). */
  output = '';

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: readonly string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.output = '';
    child.stdout!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4_000)));
    child.stderr!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4_000)));
    this.child = child;
    await eventually(`redis-server on port ${this.port} to answer (output: ${this.output})`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${this.port} exited: ${this.output}`);
      return (await this.ping()) ? true : undefined;
    });
  }

  async ping(): Promise<boolean> {
    const probe = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000 });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }

  /** A plain client to this one process (not a cluster client). */
  client(): Redis {
    const redis = new Redis(this.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    return redis;
  }

  /** Stops the process with `signal` and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

/** A standalone server of its own, optionally with AOF (`appendfsync` as given). */
export async function startRedisServer(options: { aof?: 'always' | 'everysec'; dir?: string } = {}): Promise<RedisProcess & { remove(): void }> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'rta-redis-'));
  const args = options.aof ? ['--appendonly', 'yes', '--appendfsync', options.aof] : ['--appendonly', 'no'];
  const server = Object.assign(new RedisProcess(await freePort(), dir, args), {
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  });
  await server.start();
  return server;
}

/** Copies a stopped or running server's data directory (what a snapshot restore puts back). */
export function copyDataDir(from: string): string {
  const to = mkdtempSync(join(tmpdir(), 'rta-redis-copy-'));
  cpSync(from, to, { recursive: true });
  return to;
}

export interface RedisCluster {
  /** Every node, masters and replicas, in creation order. */
  nodes: RedisProcess[];
  /** `redis://127.0.0.1:<port>` of every node, comma-separated: what REDIS_URL holds. */
  seeds: string;
  /** The node currently master of `slot`. */
  masterOf(slot: number): Promise<RedisProcess>;
  /** Current masters. */
  masters(): Promise<RedisProcess[]>;
  /** The slot of a key, as the cluster computes it. */
  keySlot(key: string): Promise<number>;
  /** Resolves once every running node reports cluster_state:ok and agrees on the masters. */
  waitHealthy(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `masters` masters with `replicas` replicas each. `nodeTimeoutMs` is cluster-node-timeout: how
 * long a master may be unreachable before its replica is promoted.
 */
export async function startRedisCluster(options: { masters?: number; replicas?: number; nodeTimeoutMs?: number } = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const root = mkdtempSync(join(tmpdir(), 'rta-cluster-'));
  const nodes: RedisProcess[] = [];
  for (let i = 0; i < masters * (1 + replicas); i++) {
    const port = await freePort();
    const dir = join(root, String(port));
    mkdirSync(dir);
    nodes.push(
      new RedisProcess(port, dir, [
        '--cluster-enabled', 'yes',
        '--cluster-config-file', 'nodes.conf',
        '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 2_000),
        '--repl-diskless-sync-delay', '0',
        '--appendonly', 'no',
      ]),
    );
  }
  await Promise.all(nodes.map((node) => node.start()));
  const create = spawnSync(
    'redis-cli',
    ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
    { encoding: 'utf8' },
  );
  if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);

  const cluster: RedisCluster = {
    nodes,
    seeds: nodes.map((n) => n.url).join(','),
    async masterOf(slot) {
      for (const node of await cluster.masters()) {
        const client = node.client();
        try {
          const slots = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string]]>;
          for (const [from, to, master] of slots) {
            if (slot >= from && slot <= to) return nodes.find((n) => n.port === Number(master[1]))!;
          }
        } finally {
          client.disconnect();
        }
      }
      throw new Error(`no master owns slot ${slot}`);
    },
    async masters() {
      const found: RedisProcess[] = [];
      for (const node of nodes) {
        if (node.child?.exitCode !== null || node.child?.signalCode !== null) continue;
        const client = node.client();
        try {
          const role = (await client.call('ROLE')) as [string];
          if (role[0] === 'master') found.push(node);
        } catch {
          // a node that does not answer is no master
        } finally {
          client.disconnect();
        }
      }
      return found;
    },
    async keySlot(key) {
      const client = nodes[0]!.client();
      try {
        return Number(await client.call('CLUSTER', 'KEYSLOT', key));
      } finally {
        client.disconnect();
      }
    },
    async waitHealthy() {
      await eventually('every node of the cluster to report cluster_state:ok and every replica to be in sync', async () => {
        const running = nodes.filter((n) => n.child?.exitCode === null && n.child?.signalCode === null);
        const views = await Promise.all(
          running.map(async (node) => {
            const client = node.client();
            try {
              const info = (await client.call('CLUSTER', 'INFO')) as string;
              const slots = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
              // A replica that has not finished its first sync could not take over from its master.
              const replication = await client.info('replication');
              const synced = !/role:slave/.test(replication) || /master_link_status:up/.test(replication);
              return { ok: /cluster_state:ok/.test(info) && synced, slots: JSON.stringify(slots.map(([a, b, m]) => [a, b, m[1]]).sort((x, y) => x[0]! - y[0]!)) };
            } finally {
              client.disconnect();
            }
          }),
        );
        return views.every((v) => v.ok && v.slots === views[0]!.slots) ? true : undefined;
      }, 120_000);
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.stop('SIGKILL')));
      rmSync(root, { recursive: true, force: true });
    },
  };
  await cluster.waitHealthy();
  return cluster;
}
