import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000 });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * Makes sure Redis answers at `url`. When nothing does, the URL is on this machine and a
 * `redis-server` binary is on the PATH, starts one with AOF (`appendfsync everysec`) under
 * `<dataDir>/redis` and returns its process; otherwise throws one line saying how to get Redis.
 */
export async function ensureRedis(url: string, dataDir: string): Promise<ChildProcess | undefined> {
  if (await answers(url)) return undefined;
  const { hostname, port } = new URL(url);
  const hasBinary = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!LOOPBACK.has(hostname) || !hasBinary) {
    throw new Error(
      `Redis is not reachable at REDIS_URL (${hostname}:${port || 6379}); start Redis 7 (apt-get install redis-server, brew install redis, or docker compose up redis) or set REDIS_URL`,
    );
  }
  const dir = resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const child = spawn(
    'redis-server',
    ['--port', port || '6379', '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await answers(url)) return child;
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  child.kill('SIGTERM');
  throw new Error(`started redis-server on port ${port || 6379} but it does not answer; see its output above`);
}
