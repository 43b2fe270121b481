/**
 * The tracker's hot path under wrk: variants started as processes of their own, measured in
 * alternating rounds, medians printed. See run.ts for what is compared.
 */
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { CHROME_UA, median, redisCounters, startNode, wrk, type BenchProcess, type LoadResult } from './harness.js';

export interface Variant {
  name: string;
  script: string;
  env: Record<string, string>;
  /** Redis nodes whose CPU and commands count for this variant (none for the bare server). */
  redis: Redis[];
}

export interface RoundResult extends LoadResult {
  trackerCpuUsPerRequest: number;
  trackerCores: number;
  redisCpuUsPerEvent: number;
  redisCommandsPerEvent: number;
}

export const SCRIPTS = {
  bare: fileURLToPath(new URL('./bare-server.ts', import.meta.url)),
  naive: fileURLToPath(new URL('./naive-tracker.ts', import.meta.url)),
  tracker: fileURLToPath(new URL('./tracker-entry.ts', import.meta.url)),
};

/** One measured run of a started variant. */
export async function measure(variant: Variant, process: BenchProcess, load: { seconds: number; threads?: number; connections?: number }): Promise<RoundResult> {
  const redisBefore = await redisCounters(variant.redis);
  const cpuBefore = process.cpuSeconds();
  const result = await wrk(process.port, load);
  const cpu = process.cpuSeconds() - cpuBefore;
  const redisAfter = await redisCounters(variant.redis);
  return {
    ...result,
    trackerCpuUsPerRequest: (cpu / result.requests) * 1e6,
    trackerCores: cpu / result.seconds,
    redisCpuUsPerEvent: variant.redis.length ? ((redisAfter.cpuSeconds - redisBefore.cpuSeconds) / result.requests) * 1e6 : 0,
    redisCommandsPerEvent: variant.redis.length ? (redisAfter.calls - redisBefore.calls - 2 * variant.redis.length) / result.requests : 0,
  };
}

/** Starts every variant, warms each up, then runs `rounds` alternating rounds; returns every round of every variant. */
export async function compare(variants: Variant[], options: { rounds: number; seconds: number; warmupSeconds?: number }): Promise<Map<string, RoundResult[]>> {
  const results = new Map<string, RoundResult[]>(variants.map((v) => [v.name, []]));
  for (const variant of variants) {
    const process = await startNode(variant.script, variant.env);
    try {
      await wrk(process.port, { seconds: options.warmupSeconds ?? 3 });
    } finally {
      await process.stop();
    }
  }
  for (let round = 1; round <= options.rounds; round++) {
    for (const variant of variants) {
      // A fresh process per round: every round starts from the same state (warm keys in Redis).
      const process = await startNode(variant.script, variant.env);
      try {
        await wrk(process.port, { seconds: 1 });
        const result = await measure(variant, process, { seconds: options.seconds });
        results.get(variant.name)!.push(result);
        console.log(`  round ${round} ${variant.name.padEnd(34)} ${line(result)}`);
      } finally {
        await process.stop();
      }
    }
  }
  return results;
}

export function line(r: RoundResult): string {
  return (
    `${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2).padStart(6)} ms  p99 ${r.p99Ms.toFixed(2).padStart(6)} ms  ` +
    `process ${r.trackerCores.toFixed(2)} cores, ${r.trackerCpuUsPerRequest.toFixed(1).padStart(5)} µs/req  ` +
    (r.redisCommandsPerEvent ? `Redis ${r.redisCpuUsPerEvent.toFixed(1).padStart(5)} µs/event, ${r.redisCommandsPerEvent.toFixed(2)} cmd/event  ` : '') +
    `wrk ${r.wrkCores.toFixed(2)} cores` +
    (r.failures ? `  FAILURES ${r.failures}` : '')
  );
}

export function medians(rounds: RoundResult[]): RoundResult {
  const pick = (key: keyof RoundResult) => median(rounds.map((r) => r[key] as number));
  return {
    requests: pick('requests'),
    seconds: pick('seconds'),
    rps: pick('rps'),
    p50Ms: pick('p50Ms'),
    p99Ms: pick('p99Ms'),
    failures: rounds.reduce((sum, r) => sum + r.failures, 0),
    wrkCores: pick('wrkCores'),
    trackerCpuUsPerRequest: pick('trackerCpuUsPerRequest'),
    trackerCores: pick('trackerCores'),
    redisCpuUsPerEvent: pick('redisCpuUsPerEvent'),
    redisCommandsPerEvent: pick('redisCommandsPerEvent'),
  };
}

export { CHROME_UA };
