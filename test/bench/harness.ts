/**
 * What the benchmarks measure with: processes of their own (CPU time from /proc), wrk as the
 * load generator (a process of its own, from Debian's `wrk` package), and Redis's own counters.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { ROOT } from '../support/child.js';

export const CHROME_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
const TICKS_PER_SECOND = 100; // CLK_TCK on Linux

export interface BenchProcess {
  child: ChildProcess;
  port: number;
  /** CPU seconds (user + system) of the process and its children so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** Starts `node <script>` (TypeScript sources through tsx) and waits for its "listening <port>" line. */
export function startNode(script: string, env: Record<string, string>): Promise<BenchProcess> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const port = /listening (\d+)/.exec(out)?.[1];
      if (port) {
        resolve({
          child,
          port: Number(port),
          cpuSeconds: () => processTreeCpu(child.pid!),
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}: ${out}`)));
  });
}

/** utime + stime of a process and its live descendants, seconds. */
export function processTreeCpu(pid: number): number {
  let ticks = 0;
  const visit = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      const children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      for (const c of children ? children.split(' ') : []) visit(Number(c));
    } catch {
      // the process ended
    }
  };
  visit(pid);
  return ticks / TICKS_PER_SECOND;
}

/** Makes sure Debian's wrk is there (installs it with apt-get when it is missing and allowed). */
export function ensureWrk(): void {
  if (spawnSync('wrk', ['--version']).error === undefined) return;
  const install = spawnSync('sh', ['-c', 'apt-get install -y -qq wrk || (apt-get update -qq && apt-get install -y -qq wrk)'], { stdio: 'inherit' });
  if (install.status !== 0) throw new Error('the benchmark needs wrk: apt-get install wrk');
}

const WRK_SCRIPT = `
local ua = "${CHROME_UA}"
request = function()
  local path = math.random(1, 1000)
  local uid = math.random(1, 100000)
  local ip = math.random(1, 223) .. "." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format("GET", "/p.gif?site=example.com&path=%2Fp%2F" .. path .. "&uid=u" .. uid, { ["User-Agent"] = ua, ["X-Forwarded-For"] = ip })
end
`;
let scriptPath: string | undefined;

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses other than 2xx/3xx, and socket errors. */
  failures: number;
  /** CPU share of the wrk process (1 = one core). */
  wrkCores: number;
}

/** Runs wrk against 127.0.0.1:`port`: `GET /p.gif` on 1,000 pages for 100,000 visitors, Chrome's user agent, a random public-looking client address in X-Forwarded-For. */
export function wrk(port: number, options: { seconds: number; threads?: number; connections?: number }): Promise<LoadResult> {
  scriptPath ??= (() => {
    const path = join(tmpdir(), `rta-bench-${process.pid}.lua`);
    writeFileSync(path, WRK_SCRIPT);
    return path;
  })();
  const args = ['-t', String(options.threads ?? 1), '-c', String(options.connections ?? 64), '-d', `${options.seconds}s`, '--latency', '-s', scriptPath, `http://127.0.0.1:${port}`];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    let cpu = 0;
    const sampler = setInterval(() => (cpu = processTreeCpu(child.pid!)), 200);
    child.on('exit', (code) => {
      clearInterval(sampler);
      if (code !== 0) return reject(new Error(`wrk exited with ${code}: ${out}`));
      const requests = Number(/(\d+) requests in ([\d.]+)(m?s)/.exec(out)?.[1]);
      const [, amount, unit] = /requests in ([\d.]+)(m?s)/.exec(out)!;
      const seconds = Number(amount) / (unit === 'ms' ? 1_000 : 1);
      const failures = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + socketErrors(out);
      resolve({
        requests,
        seconds,
        rps: requests / seconds,
        p50Ms: latencyMs(out, '50%'),
        p99Ms: latencyMs(out, '99%'),
        failures,
        wrkCores: cpu / options.seconds,
      });
    });
  });
}

function latencyMs(out: string, percentile: string): number {
  const match = new RegExp(`\\s${percentile}\\s+([\\d.]+)(us|ms|s)`).exec(out);
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1_000 : match[2] === 's' ? value * 1_000 : value;
}

function socketErrors(out: string): number {
  const match = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return match ? match.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
}

/** Redis's CPU seconds and command calls so far (all commands, those inside scripts included). */
export async function redisCounters(nodes: Redis[]): Promise<{ cpuSeconds: number; calls: number }> {
  let cpuSeconds = 0;
  let calls = 0;
  for (const node of nodes) {
    const cpu = await node.info('cpu');
    cpuSeconds += Number(/used_cpu_sys:([\d.]+)/.exec(cpu)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(cpu)![1]);
    for (const match of (await node.info('commandstats')).matchAll(/calls=(\d+)/g)) calls += Number(match[1]);
  }
  return { cpuSeconds, calls };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
